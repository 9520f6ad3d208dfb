import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiProblem } from '../common/api-problem';
import { AuthSettings } from '../config/app-config';
import { findApiKey } from './api-keys';
import { AttachTickets, TicketGrant } from './attach-tickets';
import { ANONYMOUS, Caller } from './caller';

/** The parts of the API that need a key (its own and Toxiproxy's); health, metrics and the docs stay open. */
const GUARDED_PREFIXES = ['/v1/', '/toxiproxy/'];
/** The scheme is case-insensitive (RFC 9110); the token is printable ASCII, bounded so an absurd header costs nothing to refuse. */
export const BEARER = /^Bearer +([\x21-\x7e]{1,512})$/i;

/** The route config flag (`@RouteConfig({ [TICKET_AUTH]: true })`) of routes that also take a one-time `?ticket=` (WebSocket attach). */
export const TICKET_AUTH = 'ticketAuth';

const callers = new WeakMap<FastifyRequest, Caller>();
const ticketGrants = new WeakMap<FastifyRequest, TicketGrant>();

/** The caller the hook identified for this request (anonymous when authentication is off). */
export function callerOf(request: FastifyRequest): Caller {
  return callers.get(request) ?? ANONYMOUS;
}

/** The ticket a request was let in by, if it came with one rather than a key. */
export function ticketGrantOf(request: FastifyRequest): TicketGrant | null {
  return ticketGrants.get(request) ?? null;
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
    private readonly tickets: AttachTickets,
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
    const ticket = header === undefined ? ticketIn(request) : undefined;
    if (ticket !== undefined) {
      this.redeem(request, ticket);
      return;
    }
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

  private redeem(request: FastifyRequest, ticket: string): void {
    const { id } = request.params as { id?: string };
    const grant = id === undefined ? null : this.tickets.redeem(ticket, id);
    if (grant === null) throw new ApiProblem('TICKET_INVALID', 'the ticket is not valid: tickets work once, for their socket, within 30 s of being issued');
    callers.set(request, grant.caller);
    ticketGrants.set(request, grant);
  }
}

/** `?ticket=` on a route that takes one; only the first when repeated. */
function ticketIn(request: FastifyRequest): string | undefined {
  if (request.routeOptions.config[TICKET_AUTH as keyof typeof request.routeOptions.config] !== true) return undefined;
  const { ticket } = request.query as { ticket?: string | string[] };
  return Array.isArray(ticket) ? ticket[0] : ticket;
}
