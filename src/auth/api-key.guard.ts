import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { ApiProblem } from '../common/api-problem';
import { AppConfig } from '../config/app-config';
import { findApiKey } from './api-keys';
import { ANONYMOUS, Caller } from './caller';

/** The part of the API that needs a key; health, metrics and the docs stay open. */
const GUARDED_PREFIX = '/v1/';
/** The scheme is case-insensitive (RFC 9110); the token is printable ASCII, bounded so an absurd header costs nothing to refuse. */
const BEARER = /^Bearer +([\x21-\x7e]{1,512})$/i;

const callers = new WeakMap<FastifyRequest, Caller>();

/** The caller the guard identified for this request (anonymous when authentication is off). */
export function callerOf(request: FastifyRequest): Caller {
  return callers.get(request) ?? ANONYMOUS;
}

/**
 * The global guard: with API keys configured, every `/v1` route needs `Authorization: Bearer
 * <secret>`, and the caller it identifies is what ownership checks use. Without keys it lets
 * everything through as the anonymous caller.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (this.config.apiKeys.length === 0 || !request.routeOptions.url?.startsWith(GUARDED_PREFIX)) return true;
    const reply = context.switchToHttp().getResponse<FastifyReply>();
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
    return true;
  }
}
