import { Duplex } from 'node:stream';
import { Socket } from 'node:net';
import { Admission } from './admission';
import { BufferBudget } from './buffer-budget';
import { AccessPolicy, Destinations, HostResolver, systemResolver } from './destination';
import { FramingSetting } from './framing/framing';
import { IdPrefix, ResourceIds } from './ids';
import { setConnectionRules, setDatagramRules } from './rules/rule-attach';
import { RuleSet } from './rules/rule-set';
import { ConnectionFilter, ListFilter, matches, matchesConnection } from './list-filter';
import { Page, paginate } from './pagination';
import { SocketError } from './socket-error';
import { SocketEventBus } from './socket-events';
import { Labels, ReceiveMode } from './socket-types';
import { TcpConnectTarget, openTcpSocket } from './tcp-connector';
import { TcpConnection, TcpConnectionInit, TcpConnectionOptions } from './tcp-connection';
import { TcpListener, TcpListenerOptions } from './tcp-listener';
import { TlsClientOptions, beginTlsClient, establishedClient } from './tls/tls-client';
import { TlsClientErrorCode, TlsError } from './tls/tls-error';
import { StartOffsets, TlsOutcome, TlsSession } from './tls/tls-session';
import { Transport, socketTransport } from './transport';
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
  /** Unique per owner among listeners, or among UDP sockets; none when not given. */
  name?: string | null;
}

export type CreateListenerRequest = TcpListenerOptions & Ownership;

export interface ConnectRequest extends TcpConnectTarget, Ownership {
  mode: ReceiveMode;
  noDelay: boolean;
  keepAlive: boolean;
  keepAliveInitialDelayMs: number;
  idleTimeoutMs: number;
  /** TLS from the start, over the vetted connection; null for plain TCP. */
  tls: TlsClientOptions | null;
  /** How received bytes are cut into frames; none when not given. */
  framing?: FramingSetting;
  /** Reply rules it runs from the start; none when not given. */
  rules?: RuleSet | null;
}

export type CreateUdpSocketRequest = Omit<UdpSocketOptions, 'maxDatagrams' | 'maxBufferedBytes'> & Ownership & { rules?: RuleSet | null };

/** A socket the registry holds, whatever its kind. */
export type Resource = TcpListener | TcpConnection | UdpSocket;

interface ResourceByKind {
  'tcp-listener': TcpListener;
  'tcp-connection': TcpConnection;
  'udp-socket': UdpSocket;
}
type Kind = keyof ResourceByKind;
const KIND_NAMES: Record<Kind, string> = { 'tcp-listener': 'TCP listener', 'tcp-connection': 'TCP connection', 'udp-socket': 'UDP socket' };

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
 * Owns every socket the service holds: creates them (once `Admission` lets it), hands them out
 * by id, lists them, and closes them — one at a time on request, all of them on shutdown —
 * always closing before it forgets. Ids are never reused. What happens to the sockets is
 * published on `events`; whoever counts or logs it subscribes there.
 */
export class SocketRegistry {
  readonly events = new SocketEventBus();
  private readonly resources = new Map<string, Resource>();
  /** Closes in progress, which shutdown waits for. */
  private readonly closing = new Set<Promise<void>>();
  private readonly retentionTimers = new Map<string, NodeJS.Timeout>();
  private readonly ids = new ResourceIds();
  private readonly admission: Admission;
  private readonly budget: BufferBudget;
  private readonly destinations: Destinations;

  constructor(
    private readonly settings: RegistrySettings,
    policy: AccessPolicy,
    resolveHost: HostResolver = systemResolver,
  ) {
    this.admission = new Admission(settings);
    this.budget = new BufferBudget(settings.maxTotalBufferedBytes);
    this.destinations = new Destinations(policy, resolveHost);
  }

  get size(): number {
    return this.resources.size;
  }

  /** True once shutdown began: nothing new is accepted from then on. */
  get isShuttingDown(): boolean {
    return this.admission.isShuttingDown;
  }

  /** An id for a resource kept outside the registry (a proxy, a fault), from the same sequence as every other id. */
  nextId(prefix: IdPrefix): { id: string; seq: number } {
    return this.ids.next(prefix);
  }

  /** Checks the network policy would let a connect reach `host:port` (resolving a name once), without connecting. */
  async vetDestination(host: string, port: number, family: 0 | 4 | 6): Promise<void> {
    await this.destinations.forConnect(host, port, family);
  }

  /** The address datagrams to `host:port` go to, once the network policy allowed it (a name resolved once, in `family`). */
  datagramDestination(host: string, port: number, family: 4 | 6): Promise<string> {
    return this.destinations.forDatagram(host, port, family);
  }

  /** Throws POLICY_DENIED unless a socket may bind `host:port` (a proxy's own UDP socket). */
  assertBindAllowed(host: string, port: number): void {
    this.destinations.assertBindAllowed(host, port, 'bind');
  }

  /** Every socket held now, of every kind. */
  all(): IterableIterator<Resource> {
    return this.resources.values();
  }

  /** The socket with this id, if it is still held; never throws (for observers such as logs). */
  find(id: string): Resource | undefined {
    return this.resources.get(id);
  }

  /** Usage of the limits; `owner` counts that key's sockets (undefined or null: every socket). */
  usage(owner?: string | null): RegistryUsage {
    let datagramBytes = 0;
    for (const socket of this.ofKind('udp-socket')) datagramBytes += socket.buffer.heldBytes;
    return {
      sockets: this.admission.heldTotal,
      ownSockets: owner === undefined || owner === null ? this.admission.heldTotal : this.admission.heldBy(owner),
      bufferedBytes: this.budget.heldBytes,
      datagramBytes,
    };
  }

  /**
   * Counts a socket held outside the registry (a UDP proxy's, or one of its clients' upstream
   * sockets) in the socket quotas, as the registry's own are: throws QUOTA_EXCEEDED or
   * SHUTTING_DOWN when there is no room, and answers the release (a second call does nothing).
   */
  holdOutside(owner: string | null): () => void {
    this.admission.assertRoom(owner);
    return this.heldOutside(owner);
  }

  /** `holdOutside` for a socket that arrives on its own (traffic, not a call): null when there is no room. */
  tryHoldOutside(owner: string | null): (() => void) | null {
    return this.admission.refusal(owner) === null ? this.heldOutside(owner) : null;
  }

  private heldOutside(owner: string | null): () => void {
    this.admission.admit(owner);
    let held = true;
    return () => {
      if (held) this.admission.release(owner);
      held = false;
    };
  }

  async createListener(request: CreateListenerRequest): Promise<TcpListener> {
    this.admission.assertRoom(request.owner);
    this.destinations.assertBindAllowed(request.host, request.port, 'listen on');
    this.assertNameFree('tcp-listener', request);
    const { id, seq } = this.ids.next('tl');
    const listener = await TcpListener.listen({
      id,
      seq,
      name: request.name,
      labels: request.labels,
      owner: request.owner,
      options: request,
      events: this.events,
      onAccept: (source, socket, acceptIndex) => this.adoptAccepted(source, socket, acceptIndex),
    });
    // Another create of the same name may have finished while this one was binding.
    if (this.nameTaken('tcp-listener', request)) listener.close();
    this.assertNameFree('tcp-listener', request);
    this.add(listener);
    return listener;
  }

  getListener(id: string, owner?: string | null): TcpListener {
    return this.get(id, 'tcp-listener', owner);
  }

  listListeners(filter: ListFilter, limit: number, cursor?: string): Page<TcpListener> {
    return paginate(this.ofKind('tcp-listener'), (l) => matches(l, filter), limit, cursor);
  }

  /** Stops the listener and forgets it; with `closeConnections`, closes what it accepted too. */
  async closeListener(id: string, closeConnections: boolean, owner?: string | null): Promise<TcpListener> {
    const listener = this.getListener(id, owner);
    await this.remove(listener);
    if (closeConnections) {
      const accepted = [...this.ofKind('tcp-connection')].filter((c) => c.listenerId === id);
      await Promise.all(accepted.map((c) => this.remove(c)));
    }
    return listener;
  }

  async connect(request: ConnectRequest): Promise<TcpConnection> {
    this.admission.assertRoom(request.owner);
    let socket: Socket;
    try {
      socket = await openTcpSocket(request, this.destinations);
    } catch (err) {
      this.events.connectAttempted(err instanceof SocketError ? err.code : 'NETWORK_ERROR');
      throw err;
    }
    if (this.admission.isShuttingDown) {
      socket.destroy();
      this.events.connectAttempted('SHUTTING_DOWN');
    }
    this.admission.assertNotShuttingDown();
    let tls: TlsSession | undefined;
    if (request.tls) {
      try {
        tls = await establishedClient(beginTlsClient(socket, socketTransport(socket), request.host, request.tls), request.host, request.tls);
      } catch (err) {
        this.events.connectAttempted(err instanceof TlsError ? (err.code as TlsClientErrorCode) : 'NETWORK_ERROR');
        throw err;
      }
    }
    this.events.connectAttempted('connected');
    const connection = this.newConnection(
      socket,
      { direction: 'outbound', listenerId: null, acceptIndex: null, labels: request.labels, owner: request.owner },
      request,
      (c) => this.onConnectionClosed(c),
      tls,
    );
    this.add(connection);
    this.publishOpened(connection, 'connection.opened');
    if (request.rules) this.startRules(connection, request.rules);
    return connection;
  }

  getConnection(id: string, owner?: string | null): TcpConnection {
    return this.get(id, 'tcp-connection', owner);
  }

  listConnections(filter: ConnectionFilter, limit: number, cursor?: string): Page<TcpConnection> {
    return paginate(this.ofKind('tcp-connection'), (c) => matchesConnection(c, filter), limit, cursor);
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
    await this.remove(connection, mode);
    return connection;
  }

  async createUdpSocket(request: CreateUdpSocketRequest): Promise<UdpSocket> {
    this.admission.assertRoom(request.owner);
    this.destinations.assertBindAllowed(request.host, request.port, 'bind');
    this.assertNameFree('udp-socket', request);
    const { id, seq } = this.ids.next('us');
    const socket = await UdpSocket.open({
      id,
      seq,
      name: request.name,
      labels: request.labels,
      owner: request.owner,
      options: { ...request, maxDatagrams: this.settings.udpMaxDatagrams, maxBufferedBytes: this.settings.udpMaxBufferedBytes },
      events: this.events,
      destinations: this.destinations,
    });
    // Shutdown may have begun while it was binding.
    if (this.admission.isShuttingDown || this.nameTaken('udp-socket', request)) await socket.close();
    this.admission.assertNotShuttingDown();
    this.assertNameFree('udp-socket', request);
    this.add(socket);
    if (request.rules) this.setUdpRules(socket, request.rules);
    return socket;
  }

  getUdpSocket(id: string, owner?: string | null): UdpSocket {
    return this.get(id, 'udp-socket', owner);
  }

  listUdpSockets(filter: ListFilter, limit: number, cursor?: string): Page<UdpSocket> {
    return paginate(this.ofKind('udp-socket'), (s) => matches(s, filter), limit, cursor);
  }

  /** Closes the UDP socket, then forgets it; answers once dgram reports it closed. */
  async closeUdpSocket(id: string, owner?: string | null): Promise<UdpSocket> {
    const socket = this.getUdpSocket(id, owner);
    await this.remove(socket);
    return socket;
  }

  /**
   * Closes everything and forgets each socket as it closes: listeners first (no new accepts),
   * then every connection (gracefully) and UDP socket. Nothing new is admitted from the start.
   */
  async closeAll(): Promise<void> {
    this.admission.beginShutdown();
    const listeners = [...this.ofKind('tcp-listener')];
    const others = [...this.resources.values()].filter((resource) => resource.kind !== 'tcp-listener');
    await Promise.all(listeners.map((listener) => this.remove(listener)));
    await Promise.all([...others.map((resource) => this.remove(resource)), ...this.closing]);
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
    const refusal = this.admission.refusal(listener.owner);
    if (refusal) {
      listener.refuse(socket, refusal);
      return;
    }
    listener.connectionOpened();
    const identity = { direction: 'inbound', listenerId: listener.id, acceptIndex, labels: listener.labels, owner: listener.owner } as const;
    const listenerTls = listener.options.tls;
    const tls = listenerTls?.mode === 'implicit' ? listenerTls.server.accept(socket, socketTransport(socket)) : undefined;
    const connection = this.newConnection(
      socket,
      identity,
      listener.options,
      (c) => {
        listener.connectionClosed();
        this.onConnectionClosed(c);
      },
      tls,
    );
    if (connection.state !== 'closed') this.add(connection);
    else connection.returnBudget();
    this.publishOpened(connection, 'connection.accepted');
    if (listener.rules && connection.state !== 'closed') this.startRules(connection, listener.rules);
    if (tls) void tls.settled.then((outcome) => this.publishTlsOutcome(connection, tls, outcome));
  }

  /** STARTTLS on a connection it holds; the outcome is published as for implicit TLS. */
  async startTls(
    connection: TcpConnection,
    inOffset: number | undefined,
    begin: (stream: Duplex, base: Transport, startOffsets: StartOffsets) => TlsSession,
  ): Promise<{ session: TlsSession; outcome: TlsOutcome }> {
    const session = await connection.startTls(inOffset ?? connection.buffer.endOffset, begin);
    const outcome = await session.settled;
    this.publishTlsOutcome(connection, session, outcome);
    return { session, outcome };
  }

  /** Runs `set` on the connection from its next frame on (null: no rules). */
  setConnectionRules(connection: TcpConnection, set: RuleSet | null): void {
    setConnectionRules(connection, set, this.events, (c, inOffset, begin) => this.startTls(c, inOffset, begin));
  }

  /** Runs `set` on the UDP socket from its next datagram on (null: no rules). */
  setUdpRules(socket: UdpSocket, set: RuleSet | null): void {
    setDatagramRules(socket, set, this.events);
  }

  /** The listener or UDP socket of this owner with this name, if one is held. */
  findNamed<K extends 'tcp-listener' | 'udp-socket'>(kind: K, name: string, owner: string | null): ResourceByKind[K] | undefined {
    for (const resource of this.ofKind(kind)) if (resource.name === name && resource.owner === owner) return resource;
    return undefined;
  }

  private nameTaken(kind: 'tcp-listener' | 'udp-socket', request: Ownership): boolean {
    return !!request.name && this.findNamed(kind, request.name, request.owner) !== undefined;
  }

  private assertNameFree(kind: 'tcp-listener' | 'udp-socket', request: Ownership): void {
    if (this.nameTaken(kind, request)) {
      throw new SocketError('NAME_IN_USE', `a ${KIND_NAMES[kind]} named ${request.name ?? ''} is already open`, { name: request.name ?? '' });
    }
  }

  /** A new connection's rules, its greeting first. */
  private startRules(connection: TcpConnection, set: RuleSet): void {
    this.setConnectionRules(connection, set);
    connection.rules?.connected();
  }

  private publishTlsOutcome(connection: TcpConnection, tls: TlsSession, outcome: TlsOutcome): void {
    const { info } = tls;
    if (outcome.established) {
      this.events.publish(connection, 'tls.established', {
        protocol: info.protocol ?? '',
        cipher: info.cipher?.standardName ?? '',
        servername: info.servername,
        alpnProtocol: info.alpnProtocol,
        handshakeMs: info.handshakeMs ?? 0,
      });
    } else {
      this.events.publish(connection, 'tls.failed', { reason: outcome.reason, handshakeMs: info.handshakeMs ?? 0 });
    }
  }

  private newConnection(
    socket: Socket,
    identity: Pick<TcpConnectionInit, 'direction' | 'listenerId' | 'acceptIndex' | 'labels' | 'owner'>,
    source: Pick<ConnectRequest, 'mode' | 'noDelay' | 'keepAlive' | 'keepAliveInitialDelayMs' | 'idleTimeoutMs' | 'framing'>,
    onClosed: (connection: TcpConnection) => void,
    tls?: TlsSession,
  ): TcpConnection {
    const { id, seq } = this.ids.next('tc');
    const options: TcpConnectionOptions = {
      mode: source.mode,
      noDelay: source.noDelay,
      keepAlive: source.keepAlive,
      keepAliveInitialDelayMs: source.keepAliveInitialDelayMs,
      idleTimeoutMs: source.idleTimeoutMs,
      maxBufferedBytes: this.settings.maxBufferedBytes,
      maxPendingWriteBytes: this.settings.maxPendingWriteBytes,
      closeLingerMs: this.settings.closeLingerMs,
      framing: source.framing,
    };
    const transport = tls ? tls.transport : socketTransport(socket);
    return new TcpConnection(transport, { ...identity, id, seq, options, events: this.events, budget: this.budget, onClosed, tls });
  }

  /** A connection that closed by itself stays readable for the retention time, then goes. */
  private onConnectionClosed(connection: TcpConnection): void {
    if (!this.resources.has(connection.id)) return;
    const timer = setTimeout(() => this.forget(connection), this.settings.closedRetentionMs);
    timer.unref();
    this.retentionTimers.set(connection.id, timer);
  }

  private publishOpened(connection: TcpConnection, type: 'connection.accepted' | 'connection.opened'): void {
    const data = { listenerId: connection.listenerId, remoteAddress: connection.remote?.address ?? null, remotePort: connection.remote?.port ?? null };
    this.events.publish(connection, type, data, undefined, connection.createdAt);
  }

  private add(resource: Resource): void {
    this.resources.set(resource.id, resource);
    this.admission.admit(resource.owner);
  }

  /** Closes the resource, then forgets it; shutdown waits for the closes in progress. */
  private async remove(resource: Resource, mode: 'graceful' | 'reset' = 'graceful'): Promise<void> {
    const closing = closeResource(resource, mode);
    this.closing.add(closing);
    try {
      await closing;
    } finally {
      this.closing.delete(closing);
      this.forget(resource);
    }
  }

  /** The one way a resource leaves the registry; forgetting twice does nothing. */
  private forget(resource: Resource): void {
    if (this.resources.get(resource.id) !== resource) return;
    this.resources.delete(resource.id);
    this.admission.release(resource.owner);
    if (resource.kind === 'tcp-connection') resource.returnBudget();
    const timer = this.retentionTimers.get(resource.id);
    if (timer) clearTimeout(timer);
    this.retentionTimers.delete(resource.id);
  }

  private get<K extends Kind>(id: string, kind: K, owner?: string | null): ResourceByKind[K] {
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

function closeResource(resource: Resource, mode: 'graceful' | 'reset'): Promise<void> {
  switch (resource.kind) {
    case 'tcp-listener':
      resource.close();
      return Promise.resolve();
    case 'tcp-connection':
      return resource.close(mode);
    case 'udp-socket':
      return resource.close();
  }
}
