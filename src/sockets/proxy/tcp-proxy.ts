import { Next, Stage } from '../stage-chain';
import { Labels } from '../socket-types';
import { TcpConnection } from '../tcp-connection';
import { TcpListener } from '../tcp-listener';
import { TlsClientOptions } from '../tls/tls-client';

export const TcpProxyState = {
  /** Accepting, and pairing each accepted connection with one to the upstream. */
  ENABLED: 'enabled',
  /** Its listener stays bound, but resets every new connection. */
  DISABLED: 'disabled',
  /** Refusing new connections because the upstream could not be reached (`whenUpstreamDown: refuse`). */
  UPSTREAM_DOWN: 'upstream-down',
  CLOSED: 'closed',
} as const;
export type TcpProxyState = (typeof TcpProxyState)[keyof typeof TcpProxyState];

/** What a proxy does when its upstream cannot be reached: close the client at once, or refuse new clients until a dial succeeds. */
export const UPSTREAM_DOWN_ACTIONS = ['close', 'refuse'] as const;
export type UpstreamDownAction = (typeof UPSTREAM_DOWN_ACTIONS)[number];

export interface TcpProxyOptions {
  /** A name unique among proxies (Toxiproxy's proxy names); the id when not given. */
  name: string;
  upstream: { host: string; port: number };
  connectTimeoutMs: number;
  /** Keep the bytes that cross in the halves' byte logs, to be read afterwards. */
  record: boolean;
  whenUpstreamDown: UpstreamDownAction;
  /** TLS towards the upstream (the proxy originates it); null: plain TCP. */
  upstreamTls: TlsClientOptions | null;
}

/** A client connection and the upstream one it was paired with. */
export interface ProxyPair {
  client: TcpConnection;
  upstream: TcpConnection;
}

interface ProxyCurrent {
  phase: TcpProxyState;
  options: TcpProxyOptions;
  /** Client connections by id, with their upstream half once it connected. */
  pairs: Map<string, ProxyPair>;
  accepted: number;
  refused: number;
  upstreamFailures: number;
  lastUpstreamError: string | null;
}

/**
 * A TCP proxy: a listener whose accepted connections are each paired with an outbound
 * connection to the upstream. Both halves are ordinary connections of the registry; what one
 * receives the other sends (`ForwardStage`), and `TcpProxies` ends and closes them together.
 */
export class TcpProxy {
  readonly kind = 'tcp-proxy';
  readonly createdAt = new Date();
  private readonly current: ProxyCurrent;

  constructor(
    readonly id: string,
    readonly seq: number,
    readonly owner: string | null,
    readonly labels: Labels,
    readonly listener: TcpListener,
    options: TcpProxyOptions,
    enabled: boolean,
  ) {
    this.current = {
      phase: enabled ? TcpProxyState.ENABLED : TcpProxyState.DISABLED,
      options,
      pairs: new Map(),
      accepted: 0,
      refused: 0,
      upstreamFailures: 0,
      lastUpstreamError: null,
    };
  }

  get state(): TcpProxyState {
    return this.current.phase;
  }

  get options(): TcpProxyOptions {
    return this.current.options;
  }

  get name(): string {
    return this.current.options.name;
  }

  get enabled(): boolean {
    return this.current.phase === TcpProxyState.ENABLED || this.current.phase === TcpProxyState.UPSTREAM_DOWN;
  }

  get pairs(): ProxyPair[] {
    return [...this.current.pairs.values()];
  }

  get counters(): { accepted: number; refused: number; upstreamFailures: number; lastUpstreamError: string | null } {
    const { accepted, refused, upstreamFailures, lastUpstreamError } = this.current;
    return { accepted, refused, upstreamFailures, lastUpstreamError };
  }

  /** Whether a new client is let through now. */
  get admitting(): boolean {
    return this.current.phase === TcpProxyState.ENABLED;
  }

  setOptions(options: TcpProxyOptions): void {
    this.current.options = options;
  }

  setEnabled(enabled: boolean): void {
    if (this.current.phase === TcpProxyState.CLOSED) return;
    if (enabled && this.current.phase === TcpProxyState.DISABLED) this.current.phase = TcpProxyState.ENABLED;
    if (!enabled) this.current.phase = TcpProxyState.DISABLED;
  }

  countAccepted(): void {
    this.current.accepted++;
  }

  countRefused(): void {
    this.current.refused++;
  }

  upstreamFailed(message: string): void {
    this.current.upstreamFailures++;
    this.current.lastUpstreamError = message;
    if (this.current.phase === TcpProxyState.ENABLED && this.current.options.whenUpstreamDown === 'refuse') this.current.phase = TcpProxyState.UPSTREAM_DOWN;
  }

  upstreamReached(): void {
    if (this.current.phase === TcpProxyState.UPSTREAM_DOWN) this.current.phase = TcpProxyState.ENABLED;
  }

  addPair(pair: ProxyPair): void {
    this.current.pairs.set(pair.client.id, pair);
  }

  removePair(clientId: string): void {
    this.current.pairs.delete(clientId);
  }

  close(): void {
    this.current.phase = TcpProxyState.CLOSED;
  }
}

/** The forward stage's name in a chain. */
const STAGE_NAME = 'proxy';

/**
 * The last stage of a proxy half's chain (nearest the byte log): hands what the half received to
 * the other half's send path (through that half's stages, so its faults apply), and keeps a copy
 * in the byte log only when recording. When the other half cannot take more, this half stops
 * reading until it drains: TCP flow control reaches the sender, nothing piles up here.
 */
export class ForwardStage implements Stage {
  readonly name = STAGE_NAME;

  constructor(
    private readonly from: TcpConnection,
    private readonly to: TcpConnection,
    private readonly record: boolean,
  ) {}

  received(chunk: Buffer, next: Next): void {
    if (this.record) next(chunk);
    const { to, from } = this;
    if (to.state === 'closed' || to.state === 'local-ended') return;
    to.stages.send(chunk);
    if (to.writeBacklogged) {
      from.hold(this);
      to.onceDrained(() => from.unhold(this));
    }
  }
}
