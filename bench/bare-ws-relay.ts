import fastifyWebsocket from '@fastify/websocket';
import { FastifyInstance } from 'fastify';
import { Socket } from 'node:net';
import { RawData, WebSocket } from 'ws';
import { RelaySlot } from './lib/relay-slot';

/** sockplane's attach settings: unsent bytes at which either side is paused, and the largest message. */
const HIGH_WATER_BYTES = 4 * 1024 * 1024;
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

const slot = new RelaySlot<Socket>();

function prepare(socket: Socket): Socket {
  socket.setNoDelay(true);
  // Nothing is read until a WebSocket attaches: there is no byte log here, TCP holds the peer back.
  socket.pause();
  socket.on('error', () => socket.destroy());
  return socket;
}

/**
 * Pipes one raw connection and one WebSocket into each other: each socket read becomes one
 * binary message, each message one socket write, with the attach's backpressure both ways (the
 * socket paused while the WebSocket holds 4 MiB unsent, until it is down to 1 MiB; the
 * WebSocket paused while the socket's write buffer is full).
 */
function relay(socket: Socket, ws: WebSocket): void {
  let holding = false;
  const onSent = (): void => {
    if (holding && ws.bufferedAmount <= HIGH_WATER_BYTES / 4) {
      holding = false;
      socket.resume();
    }
  };
  socket.on('data', (chunk: Buffer) => {
    ws.send(chunk, { binary: true }, onSent);
    if (!holding && ws.bufferedAmount >= HIGH_WATER_BYTES) {
      holding = true;
      socket.pause();
    }
  });
  ws.on('message', (data: RawData) => {
    if (!socket.write(data as Buffer)) {
      ws.pause();
      socket.once('drain', () => ws.resume());
    }
  });
  ws.on('close', () => socket.destroy());
  // A close frame goes out after every message queued before it: the client gets all the bytes.
  socket.on('close', () => ws.close());
  socket.resume();
}

/**
 * The bare WebSocket relay: one raw `net` connection on one side and one WebSocket on the
 * other, through the same `ws` library and settings as sockplane's attach (@fastify/websocket,
 * permessage-deflate off, the same message limit), and nothing else — no byte log, offsets,
 * events, auth or release. The attach drain and push run through it too, as context rows: they
 * tell how near raw `net` a net ⇄ WebSocket relay of three processes gets on this machine.
 */
export async function registerBareWsRelay(app: FastifyInstance): Promise<void> {
  // In a context of its own, so that the plugin's request hooks stay off the baseline's other routes.
  await app.register(async (scope) => {
    await scope.register(fastifyWebsocket, { options: { perMessageDeflate: false, maxPayload: MAX_MESSAGE_BYTES } });
    // Connects out (the push's sink).
    scope.post<{ Body: { port: number } }>('/ws-relay/connections', async (request, reply) => {
      await slot.connect(request.body.port, prepare);
      reply.code(201);
      return {};
    });
    // Accepts one connection (the drain's peer).
    scope.post('/ws-relay/listeners', async (_request, reply) => {
      const port = await slot.listen(prepare);
      reply.code(201);
      return { port };
    });
    scope.get('/ws-relay/attach', { websocket: true }, async (ws) => relay(await slot.current(), ws));
    scope.delete('/ws-relay', async () => {
      slot.reset();
      return {};
    });
  });
}
