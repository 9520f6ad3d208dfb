import { RemoteInfo, Socket, createSocket } from 'node:dgram';
import { once } from 'node:events';
import { isIP } from 'node:net';
import { DatagramFaults } from '../faults/datagram-faults';
import { Fault } from '../faults/fault';
import { FaultEngine } from '../faults/fault-engine';
import { ListFilter, matches } from '../list-filter';
import { Page, paginate } from '../pagination';
import { SocketError, fromSystemError } from '../socket-error';
import { SocketRegistry } from '../socket-registry';
import { Endpoint, Labels, toEndpoint } from '../socket-types';

export interface CreateUdpProxyRequest {
  listen: { host: string; port: number };
  upstream: { host: string; port: number };
  /** A client's mapping (and its upstream socket) goes after this long without a datagram either way. */
  idleTimeoutMs: number;
  /** Clients with a mapping at once; a new client's datagrams past it are dropped. */
  maxClients: number;
  labels: Labels;
  owner: string | null;
}

/** One client address and the upstream socket of its own its datagrams are relayed through. */
interface Mapping {
  client: Endpoint;
  socket: Socket;
  idle: NodeJS.Timeout;
  /** Gives its socket's place in the socket quotas back. */
  release: () => void;
}

/** Takes a place in the socket quotas for a socket that arrives with traffic: its release, or null when there is none. */
export type SocketHold = () => (() => void) | null;

interface UdpProxyCounters {
  datagramsIn: number;
  datagramsOut: number;
  relayedUp: number;
  relayedDown: number;
  mappingsOpened: number;
  mappingsExpired: number;
  clientsRefused: number;
}

/**
 * A UDP proxy: datagrams from each client address are relayed through an upstream socket of
 * that client's own (so replies find their way back), replies are sent to that client from the
 * proxy's port, and a mapping idle for `idleTimeoutMs` is closed. Datagram faults act on each
 * datagram on its way, seeded.
 */
export class UdpProxy {
  readonly kind = 'udp-proxy';
  readonly createdAt = new Date();
  readonly counters: UdpProxyCounters = { datagramsIn: 0, datagramsOut: 0, relayedUp: 0, relayedDown: 0, mappingsOpened: 0, mappingsExpired: 0, clientsRefused: 0 };
  private readonly mappings = new Map<string, Mapping>();
  private readonly faults = new DatagramFaults([]);
  private phase: 'open' | 'closed' = 'open';
  private localEndpoint: Endpoint | null = null;

  constructor(
    readonly id: string,
    readonly seq: number,
    readonly owner: string | null,
    readonly labels: Labels,
    readonly upstream: { host: string; port: number },
    private readonly upstreamAddress: string,
    readonly idleTimeoutMs: number,
    readonly maxClients: number,
    private readonly socket: Socket,
    /** Each client's upstream socket is a socket the service holds: it takes a place in the quotas, or the client is refused. */
    private readonly holdSocket: SocketHold,
    /** Gives the proxy's own socket's place in the quotas back once it closes. */
    private readonly releaseOwn: () => void,
  ) {
    socket.on('message', (datagram, from) => this.fromClient(datagram, from));
    socket.on('error', () => undefined);
  }

  get state(): 'open' | 'closed' {
    return this.phase;
  }

  get local(): Endpoint | null {
    return this.localEndpoint;
  }

  /** The clients with a mapping now. */
  get clients(): Endpoint[] {
    return [...this.mappings.values()].map((mapping) => mapping.client);
  }

  async bind(host: string, port: number): Promise<void> {
    this.socket.bind(port, host);
    try {
      await once(this.socket, 'listening');
    } catch (err) {
      throw fromSystemError(err, `bind ${host}:${port}`);
    }
    const address = this.socket.address();
    this.localEndpoint = toEndpoint(address.address, address.port, address.family);
  }

  setFaults(faults: readonly Fault[]): void {
    this.faults.set(faults);
  }

  close(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.faults.dispose();
    for (const key of [...this.mappings.keys()]) this.closeMapping(key, false);
    this.socket.close();
    this.releaseOwn();
  }

  private fromClient(datagram: Buffer, from: RemoteInfo): void {
    this.counters.datagramsIn++;
    const mapping = this.mappingFor(from);
    if (mapping === null) {
      this.counters.clientsRefused++;
      return;
    }
    this.touch(mapping);
    this.faults.pass('fromPeer', datagram, (copy) => {
      if (this.phase === 'closed' || !this.mappings.has(keyOf(mapping.client))) return;
      this.counters.relayedUp++;
      mapping.socket.send(copy, this.upstream.port, this.upstreamAddress);
    });
  }

  private fromUpstream(mapping: Mapping, datagram: Buffer): void {
    this.counters.relayedDown++;
    this.touch(mapping);
    this.faults.pass('toPeer', datagram, (copy) => {
      if (this.phase === 'closed') return;
      this.counters.datagramsOut++;
      this.socket.send(copy, mapping.client.port, mapping.client.address);
    });
  }

  /** The client's mapping, opened on its first datagram; null when the proxy or the quotas have no room for one more. */
  private mappingFor(from: RemoteInfo): Mapping | null {
    const client: Endpoint = { address: from.address, port: from.port, family: from.family === 'IPv6' ? 'IPv6' : 'IPv4' };
    const key = keyOf(client);
    const existing = this.mappings.get(key);
    if (existing) return existing;
    if (this.mappings.size >= this.maxClients) return null;
    const release = this.holdSocket();
    if (release === null) return null;
    const socket = createSocket(isIP(this.upstreamAddress) === 6 ? 'udp6' : 'udp4');
    socket.on('error', () => undefined);
    const mapping: Mapping = { client, socket, idle: setTimeout(() => this.closeMapping(key, true), this.idleTimeoutMs), release };
    // Not connected (a send before `connect` completes throws): replies from anyone but the upstream are ignored instead.
    socket.on('message', (datagram, sender) => {
      if (sender.address === this.upstreamAddress && sender.port === this.upstream.port) this.fromUpstream(mapping, datagram);
    });
    this.mappings.set(key, mapping);
    this.counters.mappingsOpened++;
    return mapping;
  }

  private touch(mapping: Mapping): void {
    mapping.idle.refresh();
  }

  private closeMapping(key: string, expired: boolean): void {
    const mapping = this.mappings.get(key);
    if (!mapping) return;
    this.mappings.delete(key);
    clearTimeout(mapping.idle);
    mapping.socket.close();
    mapping.release();
    if (expired) this.counters.mappingsExpired++;
  }
}

function keyOf(endpoint: Endpoint): string {
  return `${endpoint.address}|${endpoint.port}`;
}

/** Every UDP proxy: created with the upstream vetted by the network policy and the bind by the bind rules; closed on shutdown. */
export class UdpProxies {
  private readonly proxies = new Map<string, UdpProxy>();

  constructor(
    private readonly registry: SocketRegistry,
    private readonly faults: FaultEngine,
  ) {}

  async create(request: CreateUdpProxyRequest): Promise<UdpProxy> {
    const family = isIP(request.listen.host) === 6 ? 6 : 4;
    const upstreamFamily = isIP(request.upstream.host) === 6 ? 6 : isIP(request.upstream.host) === 4 ? 4 : family;
    const upstreamAddress = await this.registry.datagramDestination(request.upstream.host, request.upstream.port, upstreamFamily);
    this.registry.assertBindAllowed(request.listen.host, request.listen.port);
    const releaseOwn = this.registry.holdOutside(request.owner);
    const { id, seq } = this.registry.nextId('up');
    const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
    const hold: SocketHold = () => this.registry.tryHoldOutside(request.owner);
    const proxy = new UdpProxy(id, seq, request.owner, request.labels, request.upstream, upstreamAddress, request.idleTimeoutMs, request.maxClients, socket, hold, releaseOwn);
    try {
      await proxy.bind(request.listen.host, request.listen.port);
    } catch (err) {
      proxy.close();
      throw err;
    }
    this.proxies.set(id, proxy);
    this.faults.registerTarget({ id, owner: request.owner, protocol: 'udp', faultsChanged: (faults) => proxy.setFaults(faults) });
    return proxy;
  }

  get(id: string, owner?: string | null): UdpProxy {
    const proxy = this.proxies.get(id);
    if (!proxy || (owner !== undefined && owner !== null && proxy.owner !== owner)) throw new SocketError('SOCKET_NOT_FOUND', `no UDP proxy with id ${id}`, { id });
    return proxy;
  }

  list(filter: ListFilter, limit: number, cursor?: string): Page<UdpProxy> {
    return paginate(this.proxies.values(), (p) => matches(p, filter), limit, cursor);
  }

  remove(id: string, owner?: string | null): UdpProxy {
    const proxy = this.get(id, owner);
    this.proxies.delete(id);
    this.faults.unregisterTarget(id);
    proxy.close();
    return proxy;
  }

  closeAll(): void {
    for (const id of [...this.proxies.keys()]) this.remove(id);
  }

  /** Nest calls this on shutdown, as it does the registry's. */
  beforeApplicationShutdown(): void {
    this.closeAll();
  }
}
