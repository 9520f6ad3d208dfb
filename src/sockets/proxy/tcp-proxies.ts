import { FaultEngine } from '../faults/fault-engine';
import { ListFilter, matches } from '../list-filter';
import { Page, paginate } from '../pagination';
import { SocketError } from '../socket-error';
import { SocketEventIn } from '../socket-events';
import { ConnectRequest, SocketRegistry } from '../socket-registry';
import { ListenerTls } from '../tcp-listener';
import { Labels } from '../socket-types';
import { TcpConnection } from '../tcp-connection';
import { ForwardStage, TcpProxy, TcpProxyOptions, TcpProxyState } from './tcp-proxy';

export interface CreateTcpProxyRequest extends Omit<TcpProxyOptions, 'name'> {
  name: string | null;
  listen: { host: string; port: number };
  enabled: boolean;
  labels: Labels;
  owner: string | null;
  /** Idle time after which each half closes (reason `timeout`); 0 = never. */
  idleTimeoutMs: number;
  /** TLS the proxy terminates for its clients (implicit: each handshakes first); null: plain TCP. */
  listenTls: ListenerTls | null;
}

/** The events proxies act on: a client accepted by a proxy's listener is paired, its FIN and close are passed on. */
const PROXY_EVENTS = ['connection.accepted', 'connection.peer-ended', 'connection.closed'] as const;

/**
 * Every TCP proxy: creates them (vetting the upstream against the network policy first), pairs
 * each connection a proxy's listener accepts with one to its upstream, and ends and closes the
 * halves together. Its ids come from the registry's sequence, as every other id.
 */
export class TcpProxies {
  private readonly proxies = new Map<string, TcpProxy>();
  private readonly byListener = new Map<string, TcpProxy>();
  /** Each half's proxy and other half, by connection id. */
  private readonly halves = new Map<string, { proxy: TcpProxy; other: string; role: 'client' | 'upstream' }>();
  /** Closes waiting out a `slowClose` delay; shutdown clears them. */
  private readonly slowCloses = new Set<NodeJS.Timeout>();
  /** Proxies whose upstream is being dialled to see whether it is back. */
  private readonly probing = new Set<string>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly registry: SocketRegistry,
    private readonly faults: FaultEngine,
  ) {
    this.unsubscribe = registry.events.subscribe((event) => this.onEvent(event), PROXY_EVENTS);
  }

  async create(request: CreateTcpProxyRequest): Promise<TcpProxy> {
    if (request.name !== null) this.assertNameFree(request.name);
    await this.registry.vetDestination(request.upstream.host, request.upstream.port, 0);
    const listener = await this.registry.createListener({
      host: request.listen.host,
      port: request.listen.port,
      ipv6Only: false,
      backlog: 511,
      maxConnections: 0,
      mode: 'buffer',
      noDelay: true,
      keepAlive: false,
      keepAliveInitialDelayMs: 0,
      idleTimeoutMs: request.idleTimeoutMs,
      tls: request.listenTls,
      labels: request.labels,
      owner: request.owner,
    });
    // The name may have been taken while the listener was binding.
    if (request.name !== null && this.findByName(request.name)) {
      await this.registry.closeListener(listener.id, true);
      this.assertNameFree(request.name);
    }
    const { id, seq } = this.registry.nextId('tp');
    const { upstream, connectTimeoutMs, record, whenUpstreamDown, upstreamTls } = request;
    const options = { name: request.name ?? id, upstream, connectTimeoutMs, record, whenUpstreamDown, upstreamTls };
    const proxy = new TcpProxy(id, seq, request.owner, request.labels, listener, options, request.enabled);
    this.proxies.set(id, proxy);
    this.byListener.set(listener.id, proxy);
    this.faults.registerTarget({ id, owner: request.owner, protocol: 'tcp', listenerId: listener.id });
    return proxy;
  }

  /** The proxy with this id, if it is still open; never throws. */
  find(id: string): TcpProxy | undefined {
    return this.proxies.get(id);
  }

  get(id: string, owner?: string | null): TcpProxy {
    const proxy = this.proxies.get(id);
    if (!proxy || (owner !== undefined && owner !== null && proxy.owner !== owner)) throw new SocketError('SOCKET_NOT_FOUND', `no TCP proxy with id ${id}`, { id });
    return proxy;
  }

  findByName(name: string, owner?: string | null): TcpProxy | undefined {
    for (const proxy of this.proxies.values()) if (proxy.name === name && (owner === undefined || owner === null || proxy.owner === owner)) return proxy;
    return undefined;
  }

  list(filter: ListFilter, limit: number, cursor?: string): Page<TcpProxy> {
    return paginate(this.proxies.values(), (p) => matches(p, filter), limit, cursor);
  }

  /** Proxies `owner` sees (all with null), oldest first. */
  all(owner?: string | null): TcpProxy[] {
    return [...this.proxies.values()].filter((p) => owner === undefined || owner === null || p.owner === owner);
  }

  /** Turns a proxy on or off; off resets the connections it holds and every new one. */
  async setEnabled(proxy: TcpProxy, enabled: boolean): Promise<void> {
    proxy.setEnabled(enabled);
    if (!enabled) await this.resetPairs(proxy);
  }

  /** Points the proxy at another upstream for connections from now on (vetted first). */
  async setUpstream(proxy: TcpProxy, upstream: { host: string; port: number }): Promise<void> {
    await this.registry.vetDestination(upstream.host, upstream.port, 0);
    proxy.setOptions({ ...proxy.options, upstream });
  }

  /** Stops the proxy: its listener, its pairs (reset) and its faults. */
  async remove(id: string, owner?: string | null): Promise<TcpProxy> {
    const proxy = this.get(id, owner);
    await this.closeProxy(proxy);
    return proxy;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.proxies.values()].map((proxy) => this.closeProxy(proxy)));
    for (const timer of this.slowCloses) clearTimeout(timer);
    this.slowCloses.clear();
    this.unsubscribe();
  }

  /** Nest calls this on shutdown, as it does the registry's. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.closeAll();
  }

  private assertNameFree(name: string): void {
    if (this.findByName(name)) throw new SocketError('PROXY_EXISTS', `a proxy named ${name} exists already`, { name });
  }

  private async closeProxy(proxy: TcpProxy): Promise<void> {
    if (!this.proxies.delete(proxy.id)) return;
    this.byListener.delete(proxy.listener.id);
    proxy.close();
    this.faults.unregisterTarget(proxy.id);
    if (this.registry.find(proxy.listener.id)) await this.registry.closeListener(proxy.listener.id, false);
    await this.resetPairs(proxy);
  }

  private async resetPairs(proxy: TcpProxy): Promise<void> {
    const halves = proxy.pairs.flatMap((pair) => [pair.client, pair.upstream]);
    await Promise.all(halves.map((half) => half.close('reset')));
  }

  private onEvent(event: SocketEventIn<typeof PROXY_EVENTS>): void {
    switch (event.type) {
      case 'connection.accepted': {
        const proxy = event.data.listenerId === null ? undefined : this.byListener.get(event.data.listenerId);
        const client = proxy && this.registry.find(event.resourceId);
        if (proxy && client?.kind === 'tcp-connection') this.onAccepted(proxy, client);
        return;
      }
      case 'connection.peer-ended':
        this.passEnd(event.resourceId);
        return;
      case 'connection.closed':
        this.passClose(event.resourceId, event.data.reason === 'peer-reset' ? 'reset' : 'graceful');
        return;
      default:
        return;
    }
  }

  private onAccepted(proxy: TcpProxy, client: TcpConnection): void {
    proxy.countAccepted();
    if (!proxy.admitting) {
      proxy.countRefused();
      void client.close('reset');
      if (proxy.state === TcpProxyState.UPSTREAM_DOWN) this.probe(proxy);
      return;
    }
    if (!this.faults.applyToAccepted(client)) {
      proxy.countRefused();
      return;
    }
    // Nothing is read from the client until its upstream half exists to take it.
    client.hold(proxy);
    this.registry.connect(upstreamRequest(proxy, client.options.idleTimeoutMs)).then(
      (upstreamHalf) => this.pair(proxy, client, upstreamHalf),
      (err: unknown) => {
        proxy.upstreamFailed(err instanceof Error ? err.message : String(err));
        void client.close('graceful');
      },
    );
  }

  private pair(proxy: TcpProxy, client: TcpConnection, upstream: TcpConnection): void {
    proxy.upstreamReached();
    if (client.state === 'closed' || !this.proxies.has(proxy.id)) {
      void upstream.close('graceful');
      return;
    }
    const { record } = proxy.options;
    client.linkToProxy({ proxyId: proxy.id, peerConnectionId: upstream.id });
    upstream.linkToProxy({ proxyId: proxy.id, peerConnectionId: client.id });
    this.halves.set(client.id, { proxy, other: upstream.id, role: 'client' });
    this.halves.set(upstream.id, { proxy, other: client.id, role: 'upstream' });
    proxy.addPair({ client, upstream });
    addLast(client, new ForwardStage(client, upstream, record));
    addLast(upstream, new ForwardStage(upstream, client, record));
    client.unhold(proxy);
    // The client may have sent FIN before the upstream answered.
    if (client.inputEnded) this.passEnd(client.id);
  }

  /**
   * While the upstream is down (`whenUpstreamDown: refuse`), each refused client starts a dial
   * (one at a time) to see whether it is back; the first that connects opens the proxy again.
   */
  private probe(proxy: TcpProxy): void {
    if (this.probing.has(proxy.id)) return;
    this.probing.add(proxy.id);
    this.registry.connect(upstreamRequest(proxy, 0)).then(
      (connection) => {
        this.probing.delete(proxy.id);
        proxy.upstreamReached();
        return connection.close('graceful');
      },
      () => this.probing.delete(proxy.id),
    );
  }

  /** One half's peer sent FIN: the other half sends FIN once its faults passed on what they hold. */
  private passEnd(id: string): void {
    const link = this.halves.get(id);
    const other = link && this.registry.find(link.other);
    if (other?.kind !== 'tcp-connection' || other.state === 'closed' || other.state === 'local-ended') return;
    this.afterSlowClose(other, () =>
      this.faults.whenSentDrained(other, () => {
        if (other.state !== 'closed' && other.state !== 'local-ended') void other.send([], true).catch(() => undefined);
      }),
    );
  }

  /** One half closed: the other closes too (reset if it was reset), after a `slowClose` delay if one applies. */
  private passClose(id: string, mode: 'graceful' | 'reset'): void {
    const link = this.halves.get(id);
    if (!link) return;
    this.halves.delete(id);
    const clientId = link.role === 'client' ? id : link.other;
    link.proxy.removePair(clientId);
    const other = this.registry.find(link.other);
    if (other?.kind !== 'tcp-connection' || other.state === 'closed') return;
    this.afterSlowClose(other, () => {
      if (mode === 'reset') void other.close('reset');
      else this.faults.whenSentDrained(other, () => void other.close('graceful'));
    });
  }

  /** Runs `close` (a FIN or close passed on to `half`) at once, or after the delay of a `slowClose` fault on it. */
  private afterSlowClose(half: TcpConnection, close: () => void): void {
    const delay = this.faults.closeDelayFor(half);
    if (delay === 0) return close();
    const timer = setTimeout(() => {
      this.slowCloses.delete(timer);
      close();
    }, delay);
    this.slowCloses.add(timer);
  }
}

/** The connect that makes a proxy's upstream half. */
function upstreamRequest(proxy: TcpProxy, idleTimeoutMs: number): ConnectRequest {
  const { upstream, connectTimeoutMs, upstreamTls } = proxy.options;
  return {
    host: upstream.host,
    port: upstream.port,
    family: 0,
    timeoutMs: connectTimeoutMs,
    mode: 'buffer',
    noDelay: true,
    keepAlive: false,
    keepAliveInitialDelayMs: 0,
    idleTimeoutMs,
    tls: upstreamTls,
    labels: proxy.labels,
    owner: proxy.owner,
  };
}

function addLast(connection: TcpConnection, stage: ForwardStage): void {
  const names = connection.stages.names;
  connection.stages.add(stage, names[names.length - 1]);
}
