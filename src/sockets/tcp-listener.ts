import { Server, Socket, createServer } from 'node:net';
import { SocketError, errnoOf, fromSystemError } from './socket-error';
import { SocketBase, SocketInit } from './socket-base';
import { CloseInfo, Endpoint, ReceiveMode, SocketResource, toEndpoint } from './socket-types';
import { Waiters } from './waiters';

export const TcpListenerState = {
  LISTENING: 'listening',
  CLOSED: 'closed',
} as const;
export type TcpListenerState = (typeof TcpListenerState)[keyof typeof TcpListenerState];

export interface TcpListenerOptions {
  host: string;
  port: number;
  ipv6Only: boolean;
  backlog: number;
  /** Connections beyond this many open at once are dropped by Node as they arrive; 0 = no limit. */
  maxConnections: number;
  /** How accepted connections treat received bytes. */
  mode: ReceiveMode;
  noDelay: boolean;
  keepAlive: boolean;
  keepAliveInitialDelayMs: number;
  idleTimeoutMs: number;
}

export interface TcpListenerInit extends SocketInit<TcpListenerOptions> {
  /** Called for every accepted socket; the registry turns it into a connection resource. */
  onAccept: (listener: TcpListener, socket: Socket, acceptIndex: number) => void;
}

/** A listening TCP server over `net.Server`. Accepted sockets are handed to the registry. */
export class TcpListener extends SocketBase<TcpListenerOptions> implements SocketResource {
  readonly kind = 'tcp-listener';
  local: Endpoint | null = null;
  accepted = 0;
  dropped = 0;
  /** Accepted connections that are not closed yet; the registry keeps it current. */
  active = 0;

  private readonly server: Server;
  private readonly acceptWaiters = new Waiters();
  private currentState: TcpListenerState = TcpListenerState.LISTENING;
  private closeInfo: CloseInfo | null = null;

  private constructor(init: TcpListenerInit) {
    super(init);
    this.server = createServer({
      allowHalfOpen: true,
      noDelay: init.options.noDelay,
      keepAlive: init.options.keepAlive,
      keepAliveInitialDelay: init.options.keepAliveInitialDelayMs,
    });
    if (init.options.maxConnections > 0) this.server.maxConnections = init.options.maxConnections;
    this.server.on('connection', (socket: Socket) => {
      this.accepted++;
      init.onAccept(this, socket, this.accepted);
      this.acceptWaiters.notify();
    });
    this.server.on('drop', (peer) => {
      this.dropped++;
      this.events.publishFor(this, 'listener.dropped', { reason: 'max-connections', remoteAddress: peer?.remoteAddress ?? null, remotePort: peer?.remotePort ?? null });
    });
  }

  /** Binds and listens; resolves once bound (with the real port) or rejects with the errno. */
  static async listen(init: TcpListenerInit): Promise<TcpListener> {
    const listener = new TcpListener(init);
    await listener.bind();
    return listener;
  }

  get state(): TcpListenerState {
    return this.currentState;
  }

  get closed(): CloseInfo | null {
    return this.closeInfo;
  }

  /** Resolves once a connection with an accept index above `after` exists, or time runs out. */
  waitForAcceptAfter(after: number, waitMs: number, signal?: AbortSignal): Promise<boolean> {
    return this.acceptWaiters.waitFor(() => this.accepted > after || this.currentState === TcpListenerState.CLOSED, waitMs, signal);
  }

  /** Stops accepting. Connections already accepted are the registry's to keep or close. */
  close(): void {
    if (this.currentState === TcpListenerState.CLOSED) return;
    this.server.close();
    this.markClosed({ reason: 'local', errno: null, message: null, at: new Date() });
  }

  private bind(): Promise<void> {
    const { host, port, backlog, ipv6Only } = this.options;
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        cleanup();
        reject(fromSystemError(err, `listen on ${host}:${port}`));
      };
      const onListening = (): void => {
        cleanup();
        const address = this.server.address();
        if (address && typeof address === 'object') this.local = toEndpoint(address.address, address.port, address.family);
        // Errors after binding (rare: e.g. EMFILE while accepting) close the listener, never the process.
        this.server.on('error', (err) => this.onServerError(err));
        this.events.publishFor(this, 'listener.bound', { address: this.local?.address ?? null, port: this.local?.port ?? null });
        resolve();
      };
      const cleanup = (): void => {
        this.server.off('error', onError);
        this.server.off('listening', onListening);
      };
      this.server.once('error', onError);
      this.server.once('listening', onListening);
      try {
        this.server.listen({ host, port, backlog, ipv6Only, exclusive: true });
      } catch (err) {
        cleanup();
        reject(new SocketError('ADDRESS_NOT_AVAILABLE', `cannot listen on ${host}:${port}: ${(err as Error).message}`));
      }
    });
  }

  private onServerError(err: Error): void {
    this.server.close();
    this.markClosed({ reason: 'error', errno: errnoOf(err), message: err.message, at: new Date() });
  }

  private markClosed(info: CloseInfo): void {
    this.currentState = TcpListenerState.CLOSED;
    this.closeInfo = info;
    this.events.publishFor(this, 'listener.closed', { reason: info.reason, errno: info.errno });
    this.acceptWaiters.releaseAll();
  }

}
