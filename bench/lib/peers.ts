import { Server, Socket, connect, createServer } from 'node:net';
import { LOOPBACK } from './processes';

/** A TCP server on a free loopback port, closed with every socket it accepted. */
export class PeerServer {
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  static async start(onSocket: (socket: Socket) => void): Promise<PeerServer> {
    const server = createServer({ noDelay: true }, (socket) => {
      socket.on('error', () => socket.destroy());
      onSocket(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: LOOPBACK, port: 0, backlog: 4096 }, () => resolve());
    });
    const address = server.address();
    return new PeerServer(server, typeof address === 'object' && address ? address.port : 0);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Echoes every byte back: the peer of the latency scenario. */
export function startEchoPeer(): Promise<PeerServer> {
  return PeerServer.start((socket) => socket.on('data', (chunk: Buffer) => socket.write(chunk)));
}

/** Counts bytes and lets the bench wait for a total. */
export class ByteCounter {
  bytes = 0;
  private waiter: (() => void) | null = null;

  add(byteCount: number): void {
    this.bytes += byteCount;
    this.waiter?.();
  }

  waitFor(total: number): Promise<void> {
    if (this.bytes >= total) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiter = () => {
        if (this.bytes < total) return;
        this.waiter = null;
        resolve();
      };
    });
  }
}

/** Counts what arrives and drops it: the receiving peer of the push scenario. */
export async function startSinkPeer(): Promise<{ server: PeerServer; received: ByteCounter }> {
  const received = new ByteCounter();
  const server = await PeerServer.start((socket) => socket.on('data', (chunk: Buffer) => received.add(chunk.length)));
  return { server, received };
}

export function connectTo(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: LOOPBACK, port, noDelay: true });
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.on('error', () => socket.destroy());
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Opens `count` connections, at most `inFlight` handshakes at a time so the accept queue never overflows. */
export async function connectMany(port: number, count: number, inFlight: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++;
      sockets.push(await connectTo(port));
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, worker));
  return sockets;
}

/** Writes `total` bytes as fast as the receiver takes them (honouring backpressure). */
export async function writeAll(socket: Socket, total: number, chunk: Buffer): Promise<void> {
  let written = 0;
  while (written < total) {
    const piece = total - written >= chunk.length ? chunk : chunk.subarray(0, total - written);
    written += piece.length;
    if (!socket.write(piece)) await new Promise((resolve) => socket.once('drain', resolve));
  }
}
