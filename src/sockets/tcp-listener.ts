import { once } from 'node:events';
import { Server, Socket, createServer } from 'node:net';
import { Refusal } from './admission';
import { FramingSetting } from './framing/framing';
import { RuleSet } from './rules/rule-set';
import { SocketError, errnoOf, fromSystemError } from './socket-error';
import { SocketBase, SocketInit } from './socket-base';
import { CloseInfo, Endpoint, ReceiveMode, SocketResource, toEndpoint } from './socket-types';
import { TlsServer } from './tls/tls-session';
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
  /** How accepted connections cut received bytes into frames; none when not given. */
  framing?: FramingSetting;
  /** Reply rules each accepted connection starts with (a copy of its own); none when not given. */
  rules?: RuleSet | null;
  noDelay: boolean;
  keepAlive: boolean;
  keepAliveInitialDelayMs: number;
  idleTimeoutMs: number;
  /**
   * `implicit`: every accepted connection handshakes at once; `starttls`: they start in clear
   * text and upgrade with the server's settings when asked. Null for plain TCP.
   */
  tls: ListenerTls | null;
}

export interface ListenerTls {
  mode: 'implicit' | 'starttls';
  server: TlsServer;
}

export interface TcpListenerInit extends SocketInit<TcpListenerOptions> {
  /** Called for every accepted socket; the registry turns it into a connection resource. */
  onAccept: (listener: TcpListener, socket: Socket, acceptIndex: number) => void;
}

/** Everything that changes over a listener's life; only `transition` changes `phase`. */
interface ListenerState {
  phase: TcpListenerState;
  local: Endpoint | null;
  accepted: number;
  dropped: number;
  /** Accepted connections not closed yet. */
  active: number;
  /** The reply rules connections it accepts from now on start with. */
  rules: RuleSet | null;
  closed: CloseInfo | null;
}

/** A listening TCP server over `net.Server`. Accepted sockets are handed to the registry. */
export class TcpListener extends SocketBase<TcpListenerOptions> implements SocketResource {
  readonly kind = 'tcp-listener';

  private readonly server: Server;
  private readonly acceptWaiters = new Waiters();
  private readonly current: ListenerState = { phase: TcpListenerState.LISTENING, local: null, accepted: 0, dropped: 0, active: 0, rules: null, closed: null };

  private constructor(init: TcpListenerInit) {
    super(init);
    this.current.rules = init.options.rules ?? null;
    this.server = createServer({
      allowHalfOpen: true,
      noDelay: init.options.noDelay,
      keepAlive: init.options.keepAlive,
      keepAliveInitialDelay: init.options.keepAliveInitialDelayMs,
    });
    if (init.options.maxConnections > 0) this.server.maxConnections = init.options.maxConnections;
    this.server.on('connection', (socket: Socket) => {
      const index = ++this.current.accepted;
      init.onAccept(this, socket, index);
      this.acceptWaiters.notify();
    });
    this.server.on('drop', (peer) => {
      this.current.dropped++;
      this.events.publish(this, 'listener.dropped', { reason: 'max-connections', remoteAddress: peer?.remoteAddress ?? null, remotePort: peer?.remotePort ?? null });
    });
  }

  /** Binds and listens; resolves once bound (with the real port) or rejects with the errno. */
  static async listen(init: TcpListenerInit): Promise<TcpListener> {
    const listener = new TcpListener(init);
    await listener.bind();
    return listener;
  }

  get state(): TcpListenerState {
    return this.current.phase;
  }

  get closed(): CloseInfo | null {
    return this.current.closed;
  }

  get local(): Endpoint | null {
    return this.current.local;
  }

  get accepted(): number {
    return this.current.accepted;
  }

  get dropped(): number {
    return this.current.dropped;
  }

  /** Accepted connections that are not closed yet. */
  get active(): number {
    return this.current.active;
  }

  get rules(): RuleSet | null {
    return this.current.rules;
  }

  /** Connections accepted from now on start with `rules`; those already accepted keep theirs. */
  setRules(rules: RuleSet | null): void {
    this.current.rules = rules;
  }

  /** Resolves once a connection with an accept index above `after` exists, or time runs out. */
  waitForAcceptAfter(after: number, waitMs: number, signal?: AbortSignal): Promise<boolean> {
    return this.acceptWaiters.waitFor(() => this.current.accepted > after || this.current.phase === TcpListenerState.CLOSED, waitMs, signal);
  }

  /** A connection it accepted became a resource; it counts as active until `connectionClosed`. */
  connectionOpened(): void {
    this.current.active++;
  }

  connectionClosed(): void {
    this.current.active--;
  }

  /** Turns an accepted socket away (a quota, or shutdown): reset at once, counted and reported. */
  refuse(socket: Socket, reason: Refusal): void {
    this.current.dropped++;
    this.events.publish(this, 'listener.dropped', { reason, remoteAddress: socket.remoteAddress ?? null, remotePort: socket.remotePort ?? null });
    socket.resetAndDestroy();
  }

  /** Stops accepting. Connections already accepted are the registry's to keep or close. */
  close(): void {
    if (this.current.phase === TcpListenerState.CLOSED) return;
    this.server.close();
    this.transition(TcpListenerState.CLOSED, { reason: 'local', errno: null, message: null, at: new Date() });
  }

  private async bind(): Promise<void> {
    const { host, port, backlog, ipv6Only } = this.options;
    try {
      this.server.listen({ host, port, backlog, ipv6Only, exclusive: true });
    } catch (err) {
      throw new SocketError('ADDRESS_NOT_AVAILABLE', `cannot listen on ${host}:${port}: ${(err as Error).message}`);
    }
    // `listening` and `error` both come in a later tick, so waiting after `listen` misses neither.
    try {
      await once(this.server, 'listening');
    } catch (err) {
      throw fromSystemError(err, `listen on ${host}:${port}`);
    }
    const address = this.server.address();
    if (address && typeof address === 'object') this.current.local = toEndpoint(address.address, address.port, address.family);
    // Errors after binding (rare: e.g. EMFILE while accepting) close the listener, never the process.
    this.server.on('error', (err) => this.onServerError(err));
    this.events.publish(this, 'listener.bound', { address: this.current.local?.address ?? null, port: this.current.local?.port ?? null });
  }

  private onServerError(err: Error): void {
    this.server.close();
    this.transition(TcpListenerState.CLOSED, { reason: 'error', errno: errnoOf(err), message: err.message, at: new Date() });
  }

  /** The one place the phase changes; closing is final. */
  private transition(to: typeof TcpListenerState.CLOSED, info: CloseInfo): void {
    if (this.current.phase === to) return;
    this.current.phase = to;
    this.current.closed = info;
    this.events.publish(this, 'listener.closed', { reason: info.reason, errno: info.errno });
    this.acceptWaiters.releaseAll();
  }
}
