import { once } from 'node:events';
import { AddressInfo, Server, Socket, connect, createServer } from 'node:net';
import { BufferBudget } from '../../src/sockets/buffer-budget';
import { SocketEvent, SocketEventBus } from '../../src/sockets/socket-events';
import { TcpConnection, TcpConnectionOptions } from '../../src/sockets/tcp-connection';
import { socketTransport } from '../../src/sockets/transport';

/** Options of a test connection: buffer mode, generous caps, Node's own socket defaults. */
export const TEST_CONNECTION_OPTIONS: TcpConnectionOptions = {
  mode: 'buffer',
  noDelay: true,
  keepAlive: false,
  keepAliveInitialDelayMs: 0,
  idleTimeoutMs: 0,
  maxBufferedBytes: 1024 * 1024,
  maxPendingWriteBytes: 1024 * 1024,
  closeLingerMs: 2000,
};

/** A connection over the accepting side of a real loopback pair, and the peer's socket. */
export interface ConnectionPair {
  connection: TcpConnection;
  peer: Socket;
  events: SocketEvent[];
  /** Resolves once `connection.closed` was published. */
  whenClosed: Promise<void>;
  /** How often the connection called its `onClosed`. */
  readonly closedCalls: number;
}

/**
 * Real loopback pairs with a `TcpConnection` (no registry, no Nest) on the accepting side;
 * `closeAll` (in `afterEach`) ends every socket and server it made.
 */
export class ConnectionPairs {
  private readonly servers: Server[] = [];
  private readonly sockets: Socket[] = [];

  async open(options: Partial<TcpConnectionOptions> = {}, host = '127.0.0.1', budget = new BufferBudget(1024 * 1024 * 1024)): Promise<ConnectionPair> {
    const server = createServer({ allowHalfOpen: true });
    this.servers.push(server);
    server.listen(0, host);
    await once(server, 'listening');
    const peer = connect({ port: (server.address() as AddressInfo).port, host, allowHalfOpen: true });
    this.sockets.push(peer);
    const [accepted] = (await once(server, 'connection')) as [Socket];
    this.sockets.push(accepted);
    const bus = new SocketEventBus();
    const events: SocketEvent[] = [];
    bus.subscribe((event) => events.push(event));
    const whenClosed = new Promise<void>((resolve) => bus.subscribe((event) => event.type === 'connection.closed' && resolve()));
    let closedCalls = 0;
    const connection = new TcpConnection(socketTransport(accepted), {
      id: 'tc_test',
      seq: 1,
      labels: {},
      owner: null,
      options: { ...TEST_CONNECTION_OPTIONS, ...options },
      events: bus,
      direction: 'inbound',
      listenerId: 'tl_test',
      acceptIndex: 1,
      budget,
      onClosed: () => closedCalls++,
    });
    return {
      connection,
      peer,
      events,
      whenClosed,
      get closedCalls() {
        return closedCalls;
      },
    };
  }

  async closeAll(): Promise<void> {
    this.sockets.splice(0).forEach((socket) => socket.destroy());
    await Promise.all(this.servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  }
}
