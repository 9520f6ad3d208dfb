import { FastifyInstance, FastifyReply } from 'fastify';
import { ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { RelaySlot } from './lib/relay-slot';

const OCTET_STREAM = 'application/octet-stream';

/**
 * One raw `net` connection behind the shape of sockplane's connection calls: a send (JSON or
 * octets) answered once the kernel has the bytes, a long-poll read from an offset, a release,
 * and an event stream message per received chunk. No validation, policy, history, logs or
 * metrics, and chunks kept as received, as sockplane keeps them.
 */
class RelayConnection {
  private chunks: Buffer[] = [];
  /** Offset of `chunks[0]`'s first byte. */
  private start = 0;
  private end = 0;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly socket: Socket,
    private readonly maxHeldBytes: number,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      publishData(this.end, chunk.length);
      this.end += chunk.length;
      if (this.end - this.start >= this.maxHeldBytes) socket.pause();
      for (const wake of this.waiters.splice(0)) wake();
    });
    socket.on('error', () => socket.destroy());
  }

  /** Writes the chunks corked, as sockplane does; resolves once the kernel has the last one. */
  send(chunks: readonly Buffer[]): Promise<void> {
    this.socket.cork();
    const last = chunks.length - 1;
    for (let i = 0; i < last; i++) this.socket.write(chunks[i]);
    const written = new Promise<void>((resolve, reject) => this.socket.write(chunks[last], (err) => (err ? reject(err) : resolve())));
    this.socket.uncork();
    return written;
  }

  /** Views of the held bytes from `from`, up to `maxBytes`, once `minBytes` are there or `waitMs` ran out. */
  async read(from: number, minBytes: number, maxBytes: number, waitMs: number): Promise<{ chunks: Buffer[]; next: number }> {
    const deadline = performance.now() + waitMs;
    while (this.end - from < minBytes && performance.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - performance.now());
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const chunks: Buffer[] = [];
    let offset = this.start;
    let taken = 0;
    for (const chunk of this.chunks) {
      const chunkStart = offset;
      offset += chunk.length;
      if (offset <= from) continue;
      const piece = chunk.subarray(Math.max(0, from - chunkStart), Math.max(0, from - chunkStart) + maxBytes - taken);
      chunks.push(piece);
      taken += piece.length;
      if (taken >= maxBytes) break;
    }
    return { chunks, next: from + taken };
  }

  release(upTo: number): void {
    while (this.chunks.length > 0 && this.start + this.chunks[0].length <= upTo) {
      this.start += this.chunks[0].length;
      this.chunks.shift();
    }
    if (this.end - this.start < this.maxHeldBytes) this.socket.resume();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Open event streams: each gets one message per received chunk, as sockplane's `connection.data`. */
const eventStreams = new Set<ServerResponse>();
let eventId = 0;

function publishData(from: number, byteCount: number): void {
  if (eventStreams.size === 0) return;
  const message = `id: ${++eventId}\nevent: connection.data\ndata: ${JSON.stringify({ from, to: from + byteCount, byteCount })}\n\n`;
  for (const response of eventStreams) response.write(message);
}

const slot = new RelaySlot<RelayConnection>();

function sendOctets(reply: FastifyReply, chunks: readonly Buffer[], length: number, next: number): void {
  reply.hijack();
  reply.raw.writeHead(200, { 'content-type': OCTET_STREAM, 'content-length': length, 'sockplane-next-offset': next });
  reply.raw.cork();
  for (const chunk of chunks) reply.raw.write(chunk);
  reply.raw.end();
}

/**
 * The bare relay: what the round trip, the drain and the push cost on this machine in the shape of
 * sockplane's calls (bare Fastify and one raw connection, one relay connection at a time), so
 * the bench can tell the cost of the calls' shape from what sockplane adds to it.
 */
export function registerBareRelay(app: FastifyInstance): void {
  app.post<{ Body: { port: number; maxHeldBytes: number } }>('/relay/connections', async (request, reply) => {
    await slot.connect(request.body.port, (socket) => new RelayConnection(socket, request.body.maxHeldBytes));
    reply.code(201);
    return {};
  });
  // Accepts one connection (the drain's peer), which becomes the relay connection.
  app.post<{ Body: { maxHeldBytes: number } }>('/relay/listeners', async (request, reply) => {
    const port = await slot.listen((socket) => new RelayConnection(socket, request.body.maxHeldBytes));
    reply.code(201);
    return { port };
  });
  // Octet-stream bodies arrive as the chunks they were received in, as sockplane keeps them.
  app.addContentTypeParser(OCTET_STREAM, (_request, payload, done) => {
    const chunks: Buffer[] = [];
    payload.on('data', (chunk: Buffer) => chunks.push(chunk));
    payload.on('end', () => done(null, chunks));
    payload.on('error', done);
  });
  // sockplane's body limit in the bench (SOCKPLANE_BODY_LIMIT_BYTES), for the push's 4 MiB bodies.
  app.post<{ Body: { data: string; encoding: BufferEncoding } | Buffer[] }>('/relay/send', { bodyLimit: 16 * 1024 * 1024 }, async (request) => {
    const chunks = Array.isArray(request.body) ? request.body : [Buffer.from(request.body.data, request.body.encoding)];
    await (await slot.current()).send(chunks);
    return { bytesSent: chunks.reduce((sum, chunk) => sum + chunk.length, 0) };
  });
  app.get<{ Querystring: { from: string; minBytes?: string; maxBytes?: string; waitMs?: string } }>('/relay/buffer', async (request, reply) => {
    const { from, minBytes = '1', maxBytes = '65536', waitMs = '0' } = request.query;
    const start = Number(from);
    const { chunks, next } = await (await slot.current()).read(start, Number(minBytes), Number(maxBytes), Number(waitMs));
    if (request.headers.accept?.includes(OCTET_STREAM)) {
      sendOctets(reply, chunks, next - start, next);
      return reply;
    }
    return { from: start, nextOffset: next, data: Buffer.concat(chunks).toString('utf8') };
  });
  app.delete<{ Querystring: { upTo: string } }>('/relay/buffer', async (request) => {
    (await slot.current()).release(Number(request.query.upTo));
    return {};
  });
  app.get('/relay/events', (request, reply) => {
    reply.hijack();
    const response = reply.raw;
    response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    response.flushHeaders();
    eventStreams.add(response);
    response.once('close', () => eventStreams.delete(response));
  });
  app.delete('/relay', async () => {
    for (const response of eventStreams) response.end();
    eventStreams.clear();
    slot.reset();
    return {};
  });
}
