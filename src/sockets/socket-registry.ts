import { randomBytes } from 'node:crypto';
import { Socket } from 'node:net';
import { NetworkPolicy, Protocol, Verdict } from '../policy/network-policy';
import { BufferBudget } from './buffer-budget';
import { Page, paginate } from './pagination';
import { SocketError, SocketErrorCode } from './socket-error';
import { SocketEventBus } from './socket-events';
import { Labels, ReceiveMode, SocketResource } from './socket-types';
import { DestinationGuard, HostResolver, TcpConnectTarget, openTcpSocket, systemResolver } from './tcp-connector';
import { TcpConnection, TcpConnectionOptions, TcpDirection } from './tcp-connection';
import { TcpListener, TcpListenerOptions } from './tcp-listener';
import { UdpSocket, UdpSocketOptions } from './udp-socket';

export interface RegistrySettings {
  /** Unreleased received bytes per connection before reading pauses. */
  maxBufferedBytes: number;
  /** Bytes queued for a peer before `send` is refused. */
  maxPendingWriteBytes: number;
  /** How long a graceful close waits for the peer's FIN. */
  closeLingerMs: number;
  /** How long a connection that closed on its own stays readable before it is forgotten. */
  closedRetentionMs: number;
  /** Sockets (listeners, connections, UDP sockets) held at once. */
  maxSockets: number;
  /** Sockets one owner holds at once, accepted connections included; 0 = no limit of its own. */
  maxSocketsPerKey: number;
  /** Unreleased received bytes across all TCP connections before receiving pauses. */
  maxTotalBufferedBytes: number;
  /** Datagrams a UDP socket holds unreleased before it drops new ones. */
  udpMaxDatagrams: number;
  /** Datagram payload bytes a UDP socket holds unreleased before it drops new ones. */
  udpMaxBufferedBytes: number;
}

export interface Ownership {
  labels: Labels;
  owner: string | null;
}

export type CreateListenerRequest = TcpListenerOptions & Ownership;

export interface ConnectRequest extends TcpConnectTarget, Ownership {
  mode: ReceiveMode;
  noDelay: boolean;
  keepAlive: boolean;
  keepAliveInitialDelayMs: number;
  idleTimeoutMs: number;
}

export type CreateUdpSocketRequest = Omit<UdpSocketOptions, 'maxDatagrams' | 'maxBufferedBytes'> & Ownership;

export interface ListFilter {
  /** When set, only resources this key owns are visible. */
  owner?: string | null;
  state?: string;
  labels?: Labels;
}

export interface ConnectionFilter extends ListFilter {
  listenerId?: string;
  direction?: TcpDirection;
}

/** A socket the registry holds, whatever its kind. */
export type Resource = TcpListener | TcpConnection | UdpSocket;

/** What a socket has sent; kinds without a counter report 0. */
export interface SentCounters {
  bytesOut: number;
  datagramsOut: number;
}

/** The outcome of an outbound connect attempt: `connected` or the error code it failed with. */
export type ConnectOutcome = 'connected' | SocketErrorCode;
interface ResourceByKind {
  'tcp-listener': TcpListener;
  'tcp-connection': TcpConnection;
  'udp-socket': UdpSocket;
}
type Kind = keyof ResourceByKind;
const KIND_NAMES: Record<Kind, string> = { 'tcp-listener': 'TCP listener', 'tcp-connection': 'TCP connection', 'udp-socket': 'UDP socket' };
type Prefix = 'tl' | 'tc' | 'us';

/** How much of the registry's limits is in use, for `GET /v1/limits`. */
export interface RegistryUsage {
  sockets: number;
  /** Sockets the given owner holds (all sockets when no owner was given). */
  ownSockets: number;
  /** Unreleased received bytes across all TCP connections. */
  bufferedBytes: number;
  /** Unreleased datagram bytes across all UDP sockets. */
  datagramBytes: number;
}

/**
 * Owns every socket the service holds: creates them, hands them out by id, lists them, and
 * closes them — one at a time on request, all of them on shutdown. Ids are never reused.
 */
export class SocketRegistry {
  readonly events = new SocketEventBus();
  private readonly resources = new Map<string, Resource>();
  /** Closes in progress, which shutdown waits for. */
  private readonly closing = new Set<Promise<void>>();
  private readonly retentionTimers = new Map<string, NodeJS.Timeout>();
  /** Sent counters of the sockets already forgotten, by kind; held sockets report their own. */
  private readonly forgottenSent = new Map<string, SentCounters>();
  private readonly connectOutcomes = new Map<ConnectOutcome, number>();
  /** Sockets held per owner, for the per-key quota. */
  private readonly ownerCounts = new Map<string | null, number>();
  private readonly budget: BufferBudget;
  private readonly vetTcp: DestinationGuard;
  private readonly vetUdp: DestinationGuard;
  private seq = 0;
  private readonly idSuffixes = new RandomHex(5);
  private shuttingDown = false;

  constructor(
    private readonly settings: RegistrySettings,
    private readonly policy: NetworkPolicy,
    private readonly resolveHost: HostResolver = systemResolver,
  ) {
    this.budget = new BufferBudget(settings.maxTotalBufferedBytes);
    this.vetTcp = destinationGuard(policy, 'tcp', 'connect to');
    this.vetUdp = destinationGuard(policy, 'udp', 'send to');
  }

  get size(): number {
    return this.resources.size;
  }

  /** True once shutdown began: nothing new is accepted from then on. */
  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Every socket held now, of every kind. */
  all(): IterableIterator<Resource> {
    return this.resources.values();
  }

  /** The socket with this id, if it is still held; never throws (for observers such as logs). */
  find(id: string): Resource | undefined {
    return this.resources.get(id);
  }

  /**
   * What every socket this registry has held since start-up sent, by kind: the forgotten ones
   * plus the held ones now. Never decreases, so metrics can expose it as a counter.
   */
  sentTotals(): Map<string, SentCounters> {
    const totals = new Map<string, SentCounters>();
    for (const [kind, sent] of this.forgottenSent) totals.set(kind, { ...sent });
    for (const resource of this.resources.values()) addSent(totals, resource.kind, sentCounters(resource));
    return totals;
  }

  /** Outbound connect attempts since start-up, by outcome. */
  get connectAttempts(): ReadonlyMap<ConnectOutcome, number> {
    return this.connectOutcomes;
  }

  /** Usage of the limits; `owner` counts that key's sockets (undefined or null: every socket). */
  usage(owner?: string | null): RegistryUsage {
    let datagramBytes = 0;
    for (const socket of this.ofKind('udp-socket')) datagramBytes += socket.buffer.heldBytes;
    return {
      sockets: this.resources.size,
      ownSockets: owner === undefined || owner === null ? this.resources.size : (this.ownerCounts.get(owner) ?? 0),
      bufferedBytes: this.budget.heldBytes,
      datagramBytes,
    };
  }

  async createListener(request: CreateListenerRequest): Promise<TcpListener> {
    this.assertCapacity(request.owner);
    this.assertBindAllowed(request.host, request.port, 'listen on');
    const { id, seq } = this.allocateId('tl');
    const listener = await TcpListener.listen({
      id,
      seq,
      labels: request.labels,
      owner: request.owner,
      options: request,
      events: this.events,
      onAccept: (source, socket, acceptIndex) => this.adoptAccepted(source, socket, acceptIndex),
    });
    this.hold(listener);
    return listener;
  }

  getListener(id: string, owner?: string | null): TcpListener {
    return this.getOfKind(id, 'tcp-listener', owner);
  }

  listListeners(filter: ListFilter, limit: number, cursor?: string): Page<TcpListener> {
    return paginate(this.ofKind('tcp-listener'), (l) => matches(l, filter), limit, cursor);
  }

  /** Stops the listener and forgets it; with `closeConnections`, closes what it accepted too. */
  async closeListener(id: string, closeConnections: boolean, owner?: string | null): Promise<TcpListener> {
    const listener = this.getListener(id, owner);
    listener.close();
    this.forget(id);
    if (closeConnections) {
      const accepted = [...this.ofKind('tcp-connection')].filter((c) => c.listenerId === id);
      await Promise.all(accepted.map((c) => this.closeConnection(c.id, 'graceful')));
    }
    return listener;
  }

  async connect(request: ConnectRequest): Promise<TcpConnection> {
    this.assertCapacity(request.owner);
    let socket: Socket;
    try {
      socket = await openTcpSocket(request, this.resolveHost, this.vetTcp);
    } catch (err) {
      this.countConnect(err instanceof SocketError ? err.code : 'NETWORK_ERROR');
      throw err;
    }
    if (this.shuttingDown) {
      socket.destroy();
      this.countConnect('SHUTTING_DOWN');
      throw new SocketError('SHUTTING_DOWN', 'the service is shutting down');
    }
    this.countConnect('connected');
    const { id, seq } = this.allocateId('tc');
    const connection = new TcpConnection(socket, {
      id,
      seq,
      direction: 'outbound',
      listenerId: null,
      acceptIndex: null,
      labels: request.labels,
      owner: request.owner,
      options: this.connectionOptions(request),
      events: this.events,
      budget: this.budget,
      onClosed: (c) => this.onConnectionClosed(c),
    });
    this.hold(connection);
    this.publishOpened(connection, 'connection.opened');
    return connection;
  }

  getConnection(id: string, owner?: string | null): TcpConnection {
    return this.getOfKind(id, 'tcp-connection', owner);
  }

  listConnections(filter: ConnectionFilter, limit: number, cursor?: string): Page<TcpConnection> {
    const accept = (c: TcpConnection): boolean =>
      matches(c, filter) &&
      (filter.listenerId === undefined || c.listenerId === filter.listenerId) &&
      (filter.direction === undefined || c.direction === filter.direction);
    return paginate(this.ofKind('tcp-connection'), accept, limit, cursor);
  }

  /**
   * Connections a listener accepted after `after` (by accept index), waiting up to `waitMs`
   * for the first one. The listener may have been deleted meanwhile; its connections remain.
   */
  async waitForAccepted(listenerId: string, after: number, limit: number, waitMs: number, signal?: AbortSignal, owner?: string | null): Promise<TcpConnection[]> {
    const listener = this.getListener(listenerId, owner);
    await listener.waitForAcceptAfter(after, waitMs, signal);
    const found: TcpConnection[] = [];
    for (const c of this.ofKind('tcp-connection')) {
      if (c.listenerId === listenerId && (c.acceptIndex ?? 0) > after) found.push(c);
      if (found.length === limit) break;
    }
    return found;
  }

  /** Closes the connection, then forgets it; answers once its socket is closed. */
  async closeConnection(id: string, mode: 'graceful' | 'reset', owner?: string | null): Promise<TcpConnection> {
    const connection = this.getConnection(id, owner);
    // Forgetting only once closed keeps the bytes sent during the close in the sent totals.
    await this.track(connection.close(mode));
    this.forget(id);
    return connection;
  }

  async createUdpSocket(request: CreateUdpSocketRequest): Promise<UdpSocket> {
    this.assertCapacity(request.owner);
    this.assertBindAllowed(request.host, request.port, 'bind');
    const { id, seq } = this.allocateId('us');
    const socket = await UdpSocket.open({
      id,
      seq,
      labels: request.labels,
      owner: request.owner,
      options: { ...request, maxDatagrams: this.settings.udpMaxDatagrams, maxBufferedBytes: this.settings.udpMaxBufferedBytes },
      events: this.events,
      resolveHost: this.resolveHost,
      vetDestination: this.vetUdp,
    });
    if (this.shuttingDown) {
      await socket.close();
      throw new SocketError('SHUTTING_DOWN', 'the service is shutting down');
    }
    this.hold(socket);
    return socket;
  }

  getUdpSocket(id: string, owner?: string | null): UdpSocket {
    return this.getOfKind(id, 'udp-socket', owner);
  }

  listUdpSockets(filter: ListFilter, limit: number, cursor?: string): Page<UdpSocket> {
    return paginate(this.ofKind('udp-socket'), (s) => matches(s, filter), limit, cursor);
  }

  /** Closes the UDP socket and forgets it; answers once dgram reports it closed. */
  async closeUdpSocket(id: string, owner?: string | null): Promise<UdpSocket> {
    const socket = this.getUdpSocket(id, owner);
    this.forget(id);
    await this.track(socket.close());
    return socket;
  }

  /** Closes everything: listeners first (no new accepts), then every connection and UDP socket. */
  async closeAll(): Promise<void> {
    this.shuttingDown = true;
    for (const listener of this.ofKind('tcp-listener')) listener.close();
    const connections = [...this.ofKind('tcp-connection')];
    const udpSockets = [...this.ofKind('udp-socket')];
    for (const resource of this.resources.values()) this.retire(resource);
    for (const connection of connections) connection.returnBudget();
    this.resources.clear();
    this.ownerCounts.clear();
    for (const timer of this.retentionTimers.values()) clearTimeout(timer);
    this.retentionTimers.clear();
    await Promise.all([...connections.map((c) => c.close('graceful')), ...udpSockets.map((s) => s.close()), ...this.closing]);
  }

  /**
   * Nest calls this on shutdown (`enableShutdownHooks`) and on `app.close()`, before the HTTP
   * server drains: closing the sockets first ends the long-polls waiting on them, so the
   * in-flight requests finish and the drain is bounded.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await this.closeAll();
  }

  private adoptAccepted(listener: TcpListener, socket: Socket, acceptIndex: number): void {
    if (this.shuttingDown || this.resources.size >= this.settings.maxSockets || this.ownerAtQuota(listener.owner)) {
      listener.dropped++;
      this.events.publishFor(listener, 'listener.dropped', {
        reason: this.shuttingDown ? 'shutting-down' : 'quota',
        remoteAddress: socket.remoteAddress ?? null,
        remotePort: socket.remotePort ?? null,
      });
      socket.resetAndDestroy();
      return;
    }
    const { id, seq } = this.allocateId('tc');
    const options = listener.options;
    listener.active++;
    const connection = new TcpConnection(socket, {
      id,
      seq,
      direction: 'inbound',
      listenerId: listener.id,
      acceptIndex,
      labels: listener.labels,
      owner: listener.owner,
      options: this.connectionOptions(options),
      events: this.events,
      budget: this.budget,
      onClosed: (c) => {
        listener.active--;
        this.onConnectionClosed(c);
      },
    });
    if (connection.state !== 'closed') this.hold(connection);
    else connection.returnBudget();
    this.publishOpened(connection, 'connection.accepted');
  }

  private connectionOptions(source: Pick<ConnectRequest, 'mode' | 'noDelay' | 'keepAlive' | 'keepAliveInitialDelayMs' | 'idleTimeoutMs'>): TcpConnectionOptions {
    return {
      mode: source.mode,
      noDelay: source.noDelay,
      keepAlive: source.keepAlive,
      keepAliveInitialDelayMs: source.keepAliveInitialDelayMs,
      idleTimeoutMs: source.idleTimeoutMs,
      maxBufferedBytes: this.settings.maxBufferedBytes,
      maxPendingWriteBytes: this.settings.maxPendingWriteBytes,
      closeLingerMs: this.settings.closeLingerMs,
    };
  }

  /** A connection that closed by itself stays readable for the retention time, then goes. */
  private onConnectionClosed(connection: TcpConnection): void {
    if (!this.resources.has(connection.id)) return;
    const timer = setTimeout(() => this.forget(connection.id), this.settings.closedRetentionMs);
    timer.unref();
    this.retentionTimers.set(connection.id, timer);
  }

  private publishOpened(connection: TcpConnection, type: 'connection.accepted' | 'connection.opened'): void {
    const data = { listenerId: connection.listenerId, remoteAddress: connection.remote?.address ?? null, remotePort: connection.remote?.port ?? null };
    this.events.publishFor(connection, type, data, undefined, connection.createdAt);
  }

  private track(closing: Promise<void>): Promise<void> {
    this.closing.add(closing);
    return closing.finally(() => this.closing.delete(closing));
  }

  private hold(resource: Resource): void {
    this.resources.set(resource.id, resource);
    this.ownerCounts.set(resource.owner, (this.ownerCounts.get(resource.owner) ?? 0) + 1);
  }

  private forget(id: string): void {
    const resource = this.resources.get(id);
    if (resource) {
      this.retire(resource);
      const left = (this.ownerCounts.get(resource.owner) ?? 1) - 1;
      if (left > 0) this.ownerCounts.set(resource.owner, left);
      else this.ownerCounts.delete(resource.owner);
      if (resource.kind === 'tcp-connection') resource.returnBudget();
    }
    this.resources.delete(id);
    const timer = this.retentionTimers.get(id);
    if (timer) clearTimeout(timer);
    this.retentionTimers.delete(id);
  }

  private retire(resource: Resource): void {
    addSent(this.forgottenSent, resource.kind, sentCounters(resource));
  }

  private countConnect(outcome: ConnectOutcome): void {
    this.connectOutcomes.set(outcome, (this.connectOutcomes.get(outcome) ?? 0) + 1);
  }

  private assertCapacity(owner: string | null): void {
    if (this.shuttingDown) throw new SocketError('SHUTTING_DOWN', 'the service is shutting down');
    if (this.resources.size >= this.settings.maxSockets) {
      throw new SocketError('QUOTA_EXCEEDED', `the service holds ${this.resources.size} sockets, its limit`, {
        limit: 'maxSockets',
        max: this.settings.maxSockets,
      });
    }
    if (this.ownerAtQuota(owner)) {
      throw new SocketError('QUOTA_EXCEEDED', `this API key holds ${this.settings.maxSocketsPerKey} sockets, its limit`, {
        limit: 'maxSocketsPerKey',
        max: this.settings.maxSocketsPerKey,
      });
    }
  }

  private ownerAtQuota(owner: string | null): boolean {
    return this.settings.maxSocketsPerKey > 0 && (this.ownerCounts.get(owner) ?? 0) >= this.settings.maxSocketsPerKey;
  }

  private assertBindAllowed(host: string, port: number, action: string): void {
    assertAllowed(this.policy.judgeBind(host, port), `${action} ${host}:${port}`);
  }

  /** Ids carry the creation sequence (so they never repeat) and random bits (so they are not guessable). */
  private allocateId(prefix: Prefix): { id: string; seq: number } {
    const seq = ++this.seq;
    return { id: `${prefix}_${seq.toString(36).padStart(6, '0')}${this.idSuffixes.next()}`, seq };
  }

  private getOfKind<K extends Kind>(id: string, kind: K, owner?: string | null): ResourceByKind[K] {
    const resource = this.resources.get(id);
    if (resource?.kind !== kind || (owner !== undefined && owner !== null && resource.owner !== owner)) {
      throw new SocketError('SOCKET_NOT_FOUND', `no ${KIND_NAMES[kind]} with id ${id}`, { id });
    }
    return resource as ResourceByKind[K];
  }

  private *ofKind<K extends Kind>(kind: K): Generator<ResourceByKind[K]> {
    for (const resource of this.resources.values()) if (resource.kind === kind) yield resource as ResourceByKind[K];
  }
}

function sentCounters(resource: Resource): SentCounters {
  switch (resource.kind) {
    case 'tcp-listener':
      return { bytesOut: 0, datagramsOut: 0 };
    case 'tcp-connection':
      return { bytesOut: resource.bytesOut, datagramsOut: 0 };
    case 'udp-socket':
      return { bytesOut: resource.bytesOut, datagramsOut: resource.datagramsOut };
  }
}

function addSent(totals: Map<string, SentCounters>, kind: string, sent: SentCounters): void {
  const total = totals.get(kind) ?? { bytesOut: 0, datagramsOut: 0 };
  totals.set(kind, { bytesOut: total.bytesOut + sent.bytesOut, datagramsOut: total.datagramsOut + sent.datagramsOut });
}

/** The network policy as the connector and UDP sockets call it: every address a host stands for must be allowed. */
function destinationGuard(policy: NetworkPolicy, protocol: Protocol, action: string): DestinationGuard {
  return (host, addresses, port) => {
    for (const address of addresses) {
      const via = address === host ? '' : ` (${host} resolves to ${address})`;
      assertAllowed(policy.judgeDestination(address, port, protocol), `${action} ${host}:${port}${via}`);
    }
  };
}

function assertAllowed(verdict: Verdict, what: string): void {
  if (verdict.allowed) return;
  const source = verdict.ruleSource === 'built-in' ? 'built-in rule' : verdict.ruleSource;
  throw new SocketError('POLICY_DENIED', `${what} is refused by the network policy: ${verdict.rule} (${source}: ${verdict.reason})`, {
    rule: verdict.rule,
    ruleSource: verdict.ruleSource,
  });
}

function matches(resource: SocketResource, filter: ListFilter): boolean {
  if (filter.owner !== undefined && filter.owner !== null && resource.owner !== filter.owner) return false;
  if (filter.state !== undefined && resource.state !== filter.state) return false;
  for (const [key, value] of Object.entries(filter.labels ?? {})) {
    if (resource.labels[key] !== value) return false;
  }
  return true;
}

/**
 * Random hex strings of `bytes` bytes each, cut from a block of random bytes drawn at once: an
 * id per accepted connection made a `randomBytes` call per accept (as `randomUUID` caches its
 * entropy for the same reason).
 */
class RandomHex {
  private static readonly BLOCK_BYTES = 4096;
  private block = Buffer.alloc(0);
  private at = 0;

  constructor(private readonly bytes: number) {}

  next(): string {
    if (this.at + this.bytes > this.block.length) {
      this.block = randomBytes(RandomHex.BLOCK_BYTES);
      this.at = 0;
    }
    this.at += this.bytes;
    return this.block.toString('hex', this.at - this.bytes, this.at);
  }
}
