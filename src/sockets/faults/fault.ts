import { BlockList, isIP } from 'node:net';
import { Matcher } from '../rules/match';
import { MatchSpec } from '../rules/rule-spec';
import { Endpoint } from '../socket-types';
import { FaultAttributes, FaultDirection, FaultType } from './fault-types';
import { SeededRandom } from './prng';

/** Which connections a fault acts on: those from a network, and of those a seeded share. */
export interface FaultSelect {
  /** Only connections whose peer is in this network (`10.0.0.0/8`, `::1/128`); null = any. */
  remoteCidr: string | null;
  /** The share of connections it acts on, rolled once per connection. */
  probability: number;
  seed: number;
}

/** A condition on the frames a connection receives, as written and compiled by the reply rules' matcher. */
export interface FrameTrigger {
  match: MatchSpec;
  matcher: Matcher;
}

/** When a fault starts acting on a connection: at once, or at the first of so many bytes, a time, a frame that matches. */
export interface FaultTrigger {
  afterBytes: number | null;
  afterMs: number | null;
  onFrame: FrameTrigger | null;
}

export interface FaultSpec {
  /** A name unique per target, if the caller gives one (Toxiproxy's toxic names). */
  name: string | null;
  /** The id of a TCP proxy, listener or connection. */
  target: string;
  type: FaultType;
  direction: FaultDirection;
  attributes: FaultAttributes;
  select: FaultSelect;
  trigger: FaultTrigger;
  /** The fault removes itself this long after it was created or last changed; null = never. */
  expiresAfterMs: number | null;
}

/** What a fault may change after it was created; the rest (target, type, seed) stays. */
export type FaultChange = Partial<Pick<FaultSpec, 'direction' | 'attributes' | 'trigger' | 'expiresAfterMs'>> & { probability?: number; remoteCidr?: string | null };

export const FaultState = {
  ACTIVE: 'active',
  /** Its time ran out, or its target went away; it acts on nothing any more. */
  ENDED: 'ended',
} as const;
export type FaultState = (typeof FaultState)[keyof typeof FaultState];

/** Parses `a.b.c.d/n` or `x::y/n` into a block list that matches it; null when it is not one. */
export function parseCidr(cidr: string): BlockList | null {
  const slash = cidr.lastIndexOf('/');
  if (slash < 0) return null;
  const address = cidr.slice(0, slash);
  const prefixText = cidr.slice(slash + 1);
  const family = isIP(address);
  const prefix = Number(prefixText);
  if (family === 0 || !/^\d{1,3}$/.test(prefixText) || prefix > (family === 4 ? 32 : 128)) return null;
  const list = new BlockList();
  list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
  return list;
}

/** An IPv4 peer seen through a dual-stack socket (`::ffff:127.0.0.1`) counts as the IPv4 address. */
function plainAddress(endpoint: Endpoint): { address: string; family: 'ipv4' | 'ipv6' } {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(endpoint.address);
  if (mapped) return { address: mapped[1], family: 'ipv4' };
  return { address: endpoint.address, family: endpoint.family === 'IPv6' ? 'ipv6' : 'ipv4' };
}

interface FaultCurrent {
  spec: FaultSpec;
  state: FaultState;
  network: BlockList | null;
  /** Connections it was applied to, over its life. */
  applied: number;
  /** Connections on which its trigger fired. */
  triggered: number;
  updatedAt: Date;
}

/**
 * One fault: what it does, to what, and its seeded generator. Each connection's selection is
 * rolled once, the first time the fault meets it, and remembered: editing the fault never rolls
 * again, so a run can be repeated exactly.
 */
export class Fault {
  readonly id: string;
  /** Creation order; cursors point into it. */
  readonly seq: number;
  /** The API key that created it (null when authentication is off). */
  readonly owner: string | null;
  readonly createdAt = new Date();
  readonly random: SeededRandom;
  /** The next free moment (performance.now) of a bandwidth shared by the whole target. */
  readonly sharedBandwidth = { nextFreeAt: 0 };
  private readonly selected = new Map<string, boolean>();
  private readonly current: FaultCurrent;

  constructor(id: string, seq: number, owner: string | null, spec: FaultSpec) {
    this.id = id;
    this.seq = seq;
    this.owner = owner;
    this.random = new SeededRandom(spec.select.seed);
    const network = spec.select.remoteCidr === null ? null : parseCidr(spec.select.remoteCidr);
    this.current = { spec, state: FaultState.ACTIVE, network, applied: 0, triggered: 0, updatedAt: this.createdAt };
  }

  get spec(): FaultSpec {
    return this.current.spec;
  }

  get state(): FaultState {
    return this.current.state;
  }

  get applied(): number {
    return this.current.applied;
  }

  get triggered(): number {
    return this.current.triggered;
  }

  get updatedAt(): Date {
    return this.current.updatedAt;
  }

  get expiresAt(): Date | null {
    const { expiresAfterMs } = this.current.spec;
    return expiresAfterMs === null ? null : new Date(this.current.updatedAt.getTime() + expiresAfterMs);
  }

  /** Whether it acts on the connection with this id and peer: its network, then its roll (made once). */
  selects(connectionId: string, remote: Endpoint | null): boolean {
    const known = this.selected.get(connectionId);
    if (known !== undefined) return known;
    const { network } = this.current;
    let chosen = true;
    if (network !== null) {
      const peer = remote === null ? null : plainAddress(remote);
      chosen = peer !== null && network.check(peer.address, peer.family);
    }
    const { probability } = this.current.spec.select;
    if (chosen && probability < 1) chosen = this.random.chance(probability);
    this.selected.set(connectionId, chosen);
    return chosen;
  }

  /** Forgets a connection's roll once it is gone. */
  forget(connectionId: string): void {
    this.selected.delete(connectionId);
  }

  countApplied(): void {
    this.current.applied++;
  }

  countTriggered(): void {
    this.current.triggered++;
  }

  change(change: FaultChange): void {
    const { spec } = this.current;
    const select = {
      ...spec.select,
      ...(change.probability === undefined ? {} : { probability: change.probability }),
      ...(change.remoteCidr === undefined ? {} : { remoteCidr: change.remoteCidr }),
    };
    this.current.spec = {
      ...spec,
      direction: change.direction ?? spec.direction,
      attributes: change.attributes ?? spec.attributes,
      trigger: change.trigger ?? spec.trigger,
      expiresAfterMs: change.expiresAfterMs === undefined ? spec.expiresAfterMs : change.expiresAfterMs,
      select,
    };
    if (change.remoteCidr !== undefined) this.current.network = change.remoteCidr === null ? null : parseCidr(change.remoteCidr);
    this.current.updatedAt = new Date();
  }

  end(): void {
    this.current.state = FaultState.ENDED;
  }
}
