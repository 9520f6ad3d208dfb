/**
 * The baselines, in a process of their own as sockplane is: a bare Fastify server answering
 * the same shape of request as sockplane's send (the HTTP limit), the bare relay (the shape of
 * sockplane's connection calls over one raw connection, `bare-relay.ts`), the bare WebSocket
 * relay (one raw connection piped to one WebSocket, `bare-ws-relay.ts`), and raw `net`/`dgram`
 * endpoints (the socket limit), and line servers answering the rules scenario's lines (bare, and
 * the floor of `floor-line-server.ts`). Driven by the bench over IPC; exits when the bench does.
 */
import { execFileSync } from 'node:child_process';
import { Socket as UdpSocket, createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Server, Socket, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server as TlsServer, TLSSocket, createServer as createTlsServer } from 'node:tls';
import Fastify from 'fastify';
import { RE2JS } from 're2js';
import { registerBareRelay } from './bare-relay';
import { registerBareWsRelay } from './bare-ws-relay';
import { FloorLineServer } from './floor-line-server';
import { BaselineCommand, BaselineCommands, BaselineReply, BaselineRequest } from './lib/baseline-protocol';

type Handler<K extends BaselineCommand> = (args: BaselineCommands[K]['args']) => Promise<BaselineCommands[K]['result']>;

interface SendBody {
  data: string;
  encoding: BufferEncoding;
}

let sinkServer: Server | null = null;
const sinkSockets = new Set<Socket>();
let sinkBytes = 0;
let sinkWaiter: (() => void) | null = null;

let holder: Server | null = null;
const held = new Set<Socket>();
let acceptedCount = 0;
let acceptWaiter: (() => void) | null = null;

let tlsEcho: TlsServer | null = null;
const tlsSockets = new Set<TLSSocket>();
let pipeProxy: Server | null = null;
let udpRelay: UdpSocket | null = null;
const relayMappings = new Map<string, UdpSocket>();
const pipeSockets = new Set<Socket>();

const lineServers: Server[] = [];
const lineSockets = new Set<Socket>();

let udp: UdpSocket | null = null;
let udpCount = 0;

/** A fresh EC P-256 key and a self-signed certificate for `localhost` (valid a day), as sockplane's minted leaves are EC P-256. */
function selfSignedLocalhost(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sockplane-bench-tls-'));
  try {
    const [keyPath, certPath] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost', '-days', '1', '-keyout', keyPath, '-out', certPath],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function listen(server: Server, backlog = 511): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, backlog }, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A line's key when it is a `GET <key>` line, else undefined: the matching engine under test. */
type KeyOf = (line: string) => string | undefined;

/** Cuts the socket's lines at LF (a CR before it dropped) and answers each as the rules do, one write per chunk, keeping nothing. */
function answerLines(socket: Socket, keyOf: KeyOf): void {
  let pending = '';
  socket.on('data', (chunk: Buffer) => {
    const lines = (pending + chunk.toString('latin1')).split('\n');
    pending = lines.pop() ?? '';
    let out = '';
    for (const line of lines) {
      const key = keyOf(line.endsWith('\r') ? line.slice(0, -1) : line);
      out += key === undefined ? 'ERR unknown command\r\n' : `VALUE ${key} 42\r\n`;
    }
    if (out !== '') socket.write(out, 'latin1');
  });
}

const handlers: { [K in BaselineCommand]: Handler<K> } = {
  async openTcpSink() {
    sinkBytes = 0;
    sinkServer = createServer((socket) => {
      sinkSockets.add(socket);
      socket.on('close', () => sinkSockets.delete(socket));
      socket.on('data', (chunk: Buffer) => {
        sinkBytes += chunk.length;
        sinkWaiter?.();
      });
      socket.on('error', () => socket.destroy());
    });
    return { port: await listen(sinkServer) };
  },
  async waitTcpSink({ bytes }) {
    if (sinkBytes < bytes) {
      await new Promise<void>((resolve) => {
        sinkWaiter = () => {
          if (sinkBytes < bytes) return;
          sinkWaiter = null;
          resolve();
        };
      });
    }
    return { bytes: sinkBytes };
  },
  async closeTcpSink() {
    for (const socket of sinkSockets) socket.destroy();
    if (sinkServer) await close(sinkServer);
    sinkServer = null;
    return {};
  },
  async openTcpHolder({ backlog }) {
    acceptedCount = 0;
    holder = createServer((socket) => {
      held.add(socket);
      socket.on('error', () => socket.destroy());
      socket.on('close', () => held.delete(socket));
      acceptedCount++;
      acceptWaiter?.();
    });
    return { port: await listen(holder, backlog) };
  },
  async waitAccepted({ count }) {
    if (acceptedCount < count) {
      await new Promise<void>((resolve) => {
        acceptWaiter = () => {
          if (acceptedCount < count) return;
          acceptWaiter = null;
          resolve();
        };
      });
    }
    return { accepted: acceptedCount };
  },
  async closeTcpHolder() {
    for (const socket of held) socket.destroy();
    if (holder) await close(holder);
    holder = null;
    return {};
  },
  async openUdpReceiver({ recvBufferSize }) {
    udpCount = 0;
    const socket = createSocket({ type: 'udp4', recvBufferSize });
    udp = socket;
    socket.on('message', () => udpCount++);
    await new Promise<void>((resolve) => socket.bind({ address: '127.0.0.1', port: 0 }, () => resolve()));
    return { port: socket.address().port };
  },
  async udpReceived() {
    return { received: udpCount };
  },
  async closeUdpReceiver() {
    const socket = udp;
    udp = null;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
    return {};
  },
  async streamInto({ port, bytes }) {
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const chunk = Buffer.alloc(256 * 1024, 0x61);
    for (let written = 0; written < bytes; ) {
      const piece = bytes - written >= chunk.length ? chunk : chunk.subarray(0, bytes - written);
      written += piece.length;
      if (!socket.write(piece)) await new Promise((resolve) => socket.once('drain', resolve));
    }
    await new Promise<void>((resolve) => socket.end(resolve));
    return { bytes };
  },
  async openTlsEcho() {
    const { key, cert } = selfSignedLocalhost();
    tlsEcho = createTlsServer({ key, cert }, (socket) => {
      tlsSockets.add(socket);
      socket.on('close', () => tlsSockets.delete(socket));
      socket.on('error', () => socket.destroy());
      socket.pipe(socket);
    });
    // A client that goes away mid-handshake is not an error of the server's.
    tlsEcho.on('tlsClientError', (_err, socket) => socket.destroy());
    return { port: await listen(tlsEcho, 4096), certificate: cert };
  },
  async closeTlsEcho() {
    for (const socket of tlsSockets) socket.destroy();
    if (tlsEcho) await close(tlsEcho);
    tlsEcho = null;
    return {};
  },
  async openPipeProxy({ upstreamPort }) {
    pipeProxy = createServer({ noDelay: true }, (client) => {
      const upstream = connect({ host: '127.0.0.1', port: upstreamPort, noDelay: true });
      for (const socket of [client, upstream]) {
        pipeSockets.add(socket);
        socket.on('close', () => pipeSockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    return { port: await listen(pipeProxy, 4096) };
  },
  async closePipeProxy() {
    for (const socket of pipeSockets) socket.destroy();
    if (pipeProxy) await close(pipeProxy);
    pipeProxy = null;
    return {};
  },
  async openUdpRelay({ upstreamPort }) {
    const relay = createSocket('udp4');
    udpRelay = relay;
    relay.on('message', (datagram, client) => {
      const key = `${client.address}|${client.port}`;
      let upstream = relayMappings.get(key);
      if (!upstream) {
        const mapping = createSocket('udp4');
        mapping.on('message', (reply) => relay.send(reply, client.port, client.address));
        relayMappings.set(key, mapping);
        upstream = mapping;
      }
      upstream.send(datagram, upstreamPort, '127.0.0.1');
    });
    await new Promise<void>((resolve) => relay.bind({ address: '127.0.0.1', port: 0 }, () => resolve()));
    return { port: relay.address().port };
  },
  async closeUdpRelay() {
    for (const mapping of relayMappings.values()) mapping.close();
    relayMappings.clear();
    const relay = udpRelay;
    udpRelay = null;
    if (relay) await new Promise<void>((resolve) => relay.close(() => resolve()));
    return {};
  },
  async openLineServer({ engine = 'v8', keep = false }) {
    const source = '^GET (\\w+)$';
    // re2js with one run for the match and its groups, on the line's text: what the linear-time engine alone costs.
    const re2 = RE2JS.compile(source).re2();
    const v8 = new RegExp(source);
    const withRe2 = (line: string): string | undefined => {
      const groups: (string | null)[] | null = re2.findSubmatch(line);
      return groups?.[1] ?? undefined;
    };
    const keyOf: KeyOf = engine === 're2js' ? withRe2 : (line: string): string | undefined => v8.exec(line)?.[1];
    const floor = keep ? new FloorLineServer(re2) : null;
    const lineServer = createServer({ noDelay: true }, (socket) => {
      lineSockets.add(socket);
      socket.on('close', () => lineSockets.delete(socket));
      socket.on('error', () => socket.destroy());
      if (floor) floor.serve(socket);
      else answerLines(socket, keyOf);
    });
    lineServers.push(lineServer);
    return { port: await listen(lineServer, 4096) };
  },
  async closeLineServer() {
    for (const socket of lineSockets) socket.destroy();
    await Promise.all(lineServers.splice(0).map((server) => close(server)));
    return {};
  },
  async listenCloseLoop({ durationMs }) {
    const start = performance.now();
    let operations = 0;
    while (performance.now() - start < durationMs) {
      const server = createServer();
      await listen(server);
      await close(server);
      operations++;
    }
    return { operations, elapsedMs: performance.now() - start };
  },
};

function reply(message: BaselineReply): void {
  process.send?.(message);
}

async function dispatch(request: BaselineRequest): Promise<void> {
  try {
    const handler = handlers[request.command] as Handler<BaselineCommand>;
    reply({ id: request.id, ok: true, result: await handler(request.args) });
  } catch (err) {
    reply({ id: request.id, ok: false, error: err instanceof Error ? err.message : String(err) });
  }
}

async function main(): Promise<void> {
  const app = Fastify({ logger: false });
  app.post<{ Params: { id: string }; Body: SendBody }>('/v1/tcp/connections/:id/send', async (request) => {
    const bytes = Buffer.from(request.body.data, request.body.encoding ?? 'utf8');
    return { connectionId: request.params.id, bytesSent: bytes.length, bytesOut: bytes.length, ended: false, state: 'open' };
  });
  // The listener churn's HTTP limit: the same two calls, answered without a socket behind them.
  app.post<{ Body: { host: string; port: number } }>('/v1/tcp/listeners', async (request, reply) => {
    reply.code(201);
    return { id: 'tl_000001', kind: 'tcp-listener', state: 'listening', local: { address: request.body.host, port: request.body.port } };
  });
  app.delete<{ Params: { id: string } }>('/v1/tcp/listeners/:id', async (request) => ({ id: request.params.id, kind: 'tcp-listener', state: 'closed' }));
  registerBareRelay(app);
  await registerBareWsRelay(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  process.on('message', (message: BaselineRequest) => void dispatch(message));
  // The bench going away (even killed) closes the IPC channel: nothing should outlive it.
  process.on('disconnect', () => process.exit(0));
  reply({ ready: true, httpPort: typeof address === 'object' && address ? address.port : 0 });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
