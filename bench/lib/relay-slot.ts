import { Server, Socket, connect, createServer } from 'node:net';

/**
 * The one connection a bare relay serves at a time: dialled out (the push's sink) or accepted
 * by its listener (the drain's peer), and held as `T`. A call that comes before the listener's
 * connection did waits for it; a new connection replaces the one before.
 */
export class RelaySlot<T extends { destroy(): void }> {
  private held: T | null = null;
  private listener: Server | null = null;
  private waiting: (() => void)[] = [];

  /** Connects to `port` on loopback and holds the connection as `wrap` makes it. */
  async connect(port: number, wrap: (socket: Socket) => T): Promise<void> {
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    this.adopt(wrap(socket));
  }

  /** Listens on a free loopback port (instead of any listener before) and holds what it accepts; answers the port. */
  async listen(wrap: (socket: Socket) => T): Promise<number> {
    this.listener?.close();
    const server = createServer((socket) => this.adopt(wrap(socket)));
    this.listener = server;
    await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const address = server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  /** The connection held, once there is one. */
  async current(): Promise<T> {
    while (!this.held) await new Promise<void>((resolve) => this.waiting.push(resolve));
    return this.held;
  }

  /** Lets go of the connection and the listener. */
  reset(): void {
    this.held?.destroy();
    this.held = null;
    this.listener?.close();
    this.listener = null;
    this.waiting = [];
  }

  private adopt(value: T): void {
    this.held?.destroy();
    this.held = value;
    for (const wake of this.waiting.splice(0)) wake();
  }
}
