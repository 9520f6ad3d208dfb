import fastifyWebsocket from '@fastify/websocket';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { WebSocket, WebSocketServer } from 'ws';
import { ApiProblem } from '../common/api-problem';
import { AppConfig } from '../config/app-config';
import { ATTACH_PROTOCOLS, CLOSE_CODE, chooseProtocol } from './attach-protocol';
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
  const { closeLingerMs } = app.get(AppConfig);
  await app.register(fastifyWebsocket, {
    options: { perMessageDeflate: false, maxPayload: MAX_MESSAGE_BYTES, handleProtocols: (offered) => chooseProtocol(offered) ?? false },
    preClose: () => closeEveryWebSocket(fastify.websocketServer, closeLingerMs),
  });
}

/**
 * Closes every WebSocket the server holds and waits until each is gone. A close waits for the
 * client's closing frame, which `ws` would wait for 30 s: a client that does not answer (gone
 * without a FIN, or not reading) is cut after `lingerMs`, as a graceful TCP close is. Without
 * the wait, closing the app left such sockets and their timers behind it.
 */
export async function closeEveryWebSocket(server: WebSocketServer, lingerMs: number): Promise<void> {
  const open = [...server.clients].filter((ws) => ws.readyState !== WebSocket.CLOSED);
  const cut = setTimeout(() => {
    for (const ws of open) ws.terminate();
  }, lingerMs);
  try {
    await Promise.all(
      open.map((ws) => {
        // 'close' comes after any 'error', which is no reason to stop waiting for the others.
        const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
        if (ws.readyState === WebSocket.OPEN) ws.close(CLOSE_CODE.GOING_AWAY, 'the service is shutting down');
        return closed;
      }),
    );
  } finally {
    clearTimeout(cut);
  }
  await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
}

function toList<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}
