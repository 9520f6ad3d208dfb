import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiProblem } from '../common/api-problem';
import { AuthSettings } from '../config/app-config';
import { findApiKey } from './api-keys';
import { ANONYMOUS, Caller } from './caller';

/** The parts of the API that need a key (its own and Toxiproxy's); health, metrics and the docs stay open. */
const GUARDED_PREFIXES = ['/v1/', '/toxiproxy/'];
/** The scheme is case-insensitive (RFC 9110); the token is printable ASCII, bounded so an absurd header costs nothing to refuse. */
const BEARER = /^Bearer +([\x21-\x7e]{1,512})$/i;

const callers = new WeakMap<FastifyRequest, Caller>();

/** The caller the hook identified for this request (anonymous when authentication is off). */
export function callerOf(request: FastifyRequest): Caller {
  return callers.get(request) ?? ANONYMOUS;
}

/**
 * With API keys configured, every `/v1` route needs `Authorization: Bearer <secret>`, and the
 * caller it identifies is what ownership checks use. Without keys everything passes as the
 * anonymous caller. A Fastify `preValidation` hook rather than a Nest guard: request validation
 * runs in Fastify's routing (`route-validation.ts`), and a caller without a key must learn
 * nothing about the request, not even that it was malformed.
 */
@Injectable()
export class ApiKeyHook implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly config: AuthSettings,
  ) {}

  onModuleInit(): void {
    if (this.config.apiKeys.length === 0) return;
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.addHook('preValidation', async (request, reply) => this.authenticate(request, reply));
  }

  private authenticate(request: FastifyRequest, reply: FastifyReply): void {
    const url = request.routeOptions.url ?? '';
    if (!GUARDED_PREFIXES.some((prefix) => url.startsWith(prefix))) return;
    const header = request.headers.authorization;
    if (header === undefined) {
      reply.header('www-authenticate', 'Bearer realm="sockplane"');
      throw new ApiProblem('UNAUTHORIZED', 'this operation needs an API key: send Authorization: Bearer <key>');
    }
    const match = BEARER.exec(header);
    const key = match ? findApiKey(this.config.apiKeys, match[1]) : null;
    if (!key) {
      reply.header('www-authenticate', 'Bearer realm="sockplane", error="invalid_token"');
      throw new ApiProblem('UNAUTHORIZED', match ? 'the API key is not valid' : 'the Authorization header must be "Bearer <key>"');
    }
    callers.set(request, { owner: key.name, scope: key.admin ? null : key.name });
  }
}
