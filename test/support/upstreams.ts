import { once } from 'node:events';
import { AddressInfo, Server, Socket, connect, createServer } from 'node:net';

/** A plain Node TCP server standing in for a proxy's upstream; it remembers its sockets and closes them all. */
export class UpstreamServer {
  readonly sockets = new Set<Socket>();
  received = 0;

  private constructor(readonly server: Server) {
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('data', (chunk: Buffer) => {
        this.received += chunk.length;
        server.emit('received');
      });
      socket.on('error', () => undefined);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** An echo server (each socket piped to itself), or a sink that only counts what arrives. */
  static async start(kind: 'echo' | 'sink', host = '127.0.0.1'): Promise<UpstreamServer> {
    const server = createServer({ allowHalfOpen: false }, (socket) => {
      if (kind === 'echo') socket.pipe(socket);
      else socket.resume();
    });
    const upstream = new UpstreamServer(server);
    server.listen(0, host);
    await once(server, 'listening');
    return upstream;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Resolves once `bytes` bytes have arrived in total. */
  async receive(bytes: number): Promise<void> {
    while (this.received < bytes) await once(this.server, 'received');
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Connects and waits for the connection to end; the error code it ended with (a reset can come before `connect` is seen), or null. */
export async function connectUntilClosed(port: number, host = '127.0.0.1'): Promise<string | null> {
  const socket = connect({ port, host });
  let code: string | null = null;
  socket.on('error', (err: NodeJS.ErrnoException) => (code = err.code ?? 'UNKNOWN'));
  socket.resume();
  // Not `once(socket, 'close')`: it rejects on the `error` that comes first.
  await new Promise((resolve) => socket.on('close', resolve));
  return code;
}
