import fastifyWebsocket from '@fastify/websocket';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { ApiProblem } from '../common/api-problem';
import { ATTACH_PROTOCOLS, chooseProtocol } from './attach-protocol';
import { AttachService, AttachTarget } from './attach.service';

/** The route config key (`@RouteConfig`) that makes a Nest GET route an attach route: its value names the socket kind. */
export const ATTACH_ROUTE = 'attach';

/** A WebSocket message larger than this closes the WebSocket (1009): a send goes out in pieces anyway. */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** The answer of an attach route to a GET that is no upgrade. */
export function upgradeRequired(reply: FastifyReply): ApiProblem {
  reply.header('upgrade', 'websocket');
  reply.header('connection', 'Upgrade');
  return new ApiProblem('UPGRADE_REQUIRED', 'this route attaches a WebSocket: send the GET as a WebSocket upgrade (Upgrade: websocket)', {
    protocols: [...ATTACH_PROTOCOLS],
  });
}

/**
 * Makes the attach routes answer WebSocket upgrades, through @fastify/websocket. The routes stay
 * the Nest routes they are (documented, validated, behind every hook), so an upgrade passes the
 * Host check, the API key (or ticket) and query validation like any request; `admit` then checks
 * the rest before the handshake, and the upgraded WebSocket goes to `attach`. A plain GET reaches
 * the Nest handler (426). Call before `app.init()`, which registers the routes.
 */
export async function registerAttachRoutes(app: NestFastifyApplication): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  const attach = app.get(AttachService);
  // Before the plugin's own onRoute hook, which picks up `wsHandler`.
  fastify.addHook('onRoute', (route: RouteOptions) => {
    const target = (route.config as Record<string, unknown> | undefined)?.[ATTACH_ROUTE] as AttachTarget | undefined;
    if (target === undefined) return;
    const admit = async (request: FastifyRequest): Promise<void> => attach.admit(target, request);
    route.preHandler = [...toList(route.preHandler), admit];
    route.wsHandler = (ws, request) => attach.attach(ws, request);
  });
  await app.register(fastifyWebsocket, {
    options: { perMessageDeflate: false, maxPayload: MAX_MESSAGE_BYTES, handleProtocols: (offered) => chooseProtocol(offered) ?? false },
  });
}

function toList<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}
