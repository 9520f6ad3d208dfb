import { Redis } from 'ioredis';

/** What a node registers about itself, and `GET /v1/cluster` shows. */
export interface NodeInfo {
  nodeId: string;
  /** Where the other nodes reach its API (internal, not the load balancer). */
  apiUrl: string;
  /** Where clients dial the listeners it holds. */
  socketHost: string;
  /** When it started (ISO 8601). */
  started: string;
  /** Sockets it holds, as of its last heartbeat. */
  load: number;
}

/** `live`: heartbeating; `unreachable`: registered, but its heartbeats stopped and no survivor has claimed it yet. */
export type NodeState = 'live' | 'unreachable';

export interface KnownNode extends NodeInfo {
  state: NodeState;
}

/** Where a node stands for a call that names it. */
export type Whereabouts = { state: 'live'; node: KnownNode } | { state: 'lost' } | { state: 'unreachable' } | { state: 'unknown' } | { state: 'cluster-unavailable' };

/** A socket a node holds, as the others need to know of it should the node be lost. */
export interface HeldSocket {
  kind: 'tcp-listener' | 'tcp-connection' | 'udp-socket';
  owner: string | null;
  labels: Readonly<Record<string, string>>;
}

/** A lost node a survivor claimed: its record and the sockets it held, for the closing events. */
export interface ClaimedNode {
  node: NodeInfo;
  sockets: Map<string, HeldSocket>;
}

export interface MembershipOptions {
  heartbeatMs: number;
  /** Sockets held now, for the registration's `load`. */
  load: () => number;
  /** Every socket held now: written again when Redis comes back (it may have lost them). */
  held: () => Iterable<[string, HeldSocket]>;
  /** A survivor (this node) claimed a lost node: publish its loss. */
  onNodeLost: (claimed: ClaimedNode) => void;
}

const KEY = {
  members: 'sockplane:members',
  lost: 'sockplane:lost',
  node: (id: string) => `sockplane:node:${id}`,
  sockets: (id: string) => `sockplane:sockets:${id}`,
  claimed: (id: string) => `sockplane:claimed:${id}`,
  held: (owner: string | null) => `sockplane:held:${owner ?? ''}`,
  /** The owners a node has creates in flight for (their `pending:` fields), so they can be cleared if it is lost. */
  pendingOwners: (id: string) => `sockplane:pending-owners:${id}`,
};

/** The field of an owner's count that holds a node's creates in flight: counted, not yet made. */
const pendingField = (nodeId: string): string => `pending:${nodeId}`;

/**
 * Takes a place in an owner's count for a create in flight, atomically: the sum of every
 * node's share and every create in flight must stay under the quota, or nothing is taken (-1).
 */
const RESERVE_SCRIPT = `
local total = 0
for _, share in ipairs(redis.call('HVALS', KEYS[1])) do total = total + tonumber(share) end
if total >= tonumber(ARGV[2]) then return -1 end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('SADD', KEYS[2], ARGV[3])
return total
`;

/** Gives a create's place back once it is made (its socket counted in the node's share) or failed. */
const RELEASE_SCRIPT = `
if tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0') > 0 then redis.call('HINCRBY', KEYS[1], ARGV[1], -1) end
return 0
`;

/** A node is lost when its heartbeat key has expired: three beats missed. */
const MISSED_BEATS = 3;

/**
 * Claims a lost node atomically, so exactly one survivor publishes its loss: only while its
 * heartbeat key is still absent and it is still a member. Its socket list moves aside for the
 * claimant to read.
 */
const CLAIM_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if redis.call('HDEL', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('SADD', KEYS[3], ARGV[1])
if redis.call('EXISTS', KEYS[4]) == 1 then redis.call('RENAME', KEYS[4], KEYS[5]) end
return 1
`;

/**
 * This node's membership of the cluster, on Redis: it registers itself with a TTL and renews
 * it every heartbeat, keeps a view of the other nodes (refreshed each heartbeat, so forwarding
 * asks Redis nothing), records the sockets it holds, and claims nodes whose heartbeats
 * stopped. When Redis goes away, the node keeps its view and its sockets; when Redis is back
 * it registers again, writes its sockets again, and waits one loss period before judging
 * anyone lost (they are re-registering too).
 */
export class Membership {
  private readonly redis: Redis;
  private readonly ttlMs: number;
  private info: NodeInfo;
  private joined = false;
  private nodes = new Map<string, KnownNode>();
  private lost = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  /** No claims before this time: just (re)connected, the others may not have re-registered yet. */
  private claimsFrom = 0;
  private beating: Promise<void> | null = null;
  /** The keys whose counts this node has a share in, which it takes back when it leaves. */
  private readonly owners = new Set<string | null>();
  private stopped = false;

  constructor(
    redisUrl: string,
    readonly nodeId: string,
    private readonly options: MembershipOptions,
  ) {
    this.ttlMs = options.heartbeatMs * MISSED_BEATS;
    this.info = { nodeId, apiUrl: '', socketHost: '', started: new Date().toISOString(), load: 0 };
    this.redis = new Redis(redisUrl, {
      lazyConnect: true,
      // A command while Redis is away fails at once rather than queueing: the caller answers
      // CLUSTER_UNAVAILABLE, and the node writes its state again when Redis is back.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: Math.max(1000, options.heartbeatMs),
      retryStrategy: () => Math.min(options.heartbeatMs, 1000),
    });
    // ioredis reports every failed reconnect as an error; being away is a state here, not a crash.
    this.redis.on('error', () => undefined);
    this.redis.on('ready', () => void this.rejoin());
  }

  get self(): NodeInfo {
    return { ...this.info, load: this.options.load() };
  }

  /** Whether Redis answers now. */
  get available(): boolean {
    return this.redis.status === 'ready';
  }

  /**
   * Joins once the API listens (its address is part of the registration) and starts the
   * heartbeat. Redis away at start is not fatal: the node serves its own sockets, and joins
   * when Redis answers (ioredis keeps reconnecting).
   */
  async start(address: Pick<NodeInfo, 'apiUrl' | 'socketHost'>): Promise<void> {
    this.info = { ...this.info, ...address };
    this.joined = true;
    this.timer = setInterval(() => void this.beat(), this.options.heartbeatMs);
    this.timer.unref();
    await this.redis.connect().catch(() => undefined);
  }

  /** Leaves the cluster: its record, socket list and shares of the keys' counts go, so no one claims it lost or counts its sockets. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.beating;
    if (this.available) {
      const pendingOwners = await this.redis.smembers(KEY.pendingOwners(this.nodeId)).catch((): string[] => []);
      const tx = this.redis.multi().del(KEY.node(this.nodeId), KEY.sockets(this.nodeId), KEY.pendingOwners(this.nodeId)).hdel(KEY.members, this.nodeId);
      for (const owner of this.owners) tx.hdel(KEY.held(owner), this.nodeId);
      for (const owner of pendingOwners) tx.hdel(KEY.held(owner), pendingField(this.nodeId));
      await tx.exec().catch(() => undefined);
    }
    this.redis.disconnect();
  }

  /** The nodes as last seen (this one included), in id order. */
  known(): KnownNode[] {
    const all = new Map(this.nodes);
    all.set(this.nodeId, { ...this.self, state: 'live' });
    return [...all.values()].sort((a, b) => a.nodeId.localeCompare(b.nodeId));
  }

  /** The live nodes as last seen, this one included. */
  live(): KnownNode[] {
    return this.known().filter((node) => node.state === 'live');
  }

  /**
   * Where the node an id names stands. A node not seen live at the last heartbeat is looked up
   * once more: it may have just joined, or another survivor may have just claimed it; `recheck`
   * looks it up again whatever was seen (a call to it just failed).
   */
  async whereabouts(nodeId: string, recheck = false): Promise<Whereabouts> {
    if (!this.available) return { state: 'cluster-unavailable' };
    if ((recheck || this.nodes.get(nodeId)?.state !== 'live') && !this.lost.has(nodeId)) await this.refresh().catch(() => undefined);
    const node = this.nodes.get(nodeId);
    if (node) return node.state === 'live' ? { state: 'live', node } : { state: 'unreachable' };
    return this.lost.has(nodeId) ? { state: 'lost' } : { state: 'unknown' };
  }

  /** Records a socket this node now holds (and its owner's count, for quotas across the cluster). */
  socketOpened(id: string, socket: HeldSocket): void {
    this.owners.add(socket.owner);
    if (!this.available) return;
    this.redis
      .multi()
      .hset(KEY.sockets(this.nodeId), id, JSON.stringify(socket))
      .hincrby(KEY.held(socket.owner), this.nodeId, 1)
      .exec()
      // Lost with Redis: `rejoin` writes every socket again.
      .catch(() => undefined);
  }

  socketClosed(id: string, owner: string | null): void {
    if (!this.available) return;
    this.redis
      .eval(`if redis.call('HDEL', KEYS[1], ARGV[1]) == 1 then redis.call('HINCRBY', KEYS[2], ARGV[2], -1) end return 0`, 2, KEY.sockets(this.nodeId), KEY.held(owner), id, this.nodeId)
      .catch(() => undefined);
  }

  /**
   * Takes a place in `owner`'s quota across the cluster for a socket about to be made through
   * this node: false when the owner already holds (or is being made) `max`. Two creates racing
   * through different nodes cannot both take the last place.
   */
  async reserve(owner: string, max: number): Promise<boolean> {
    const held = await this.redis.eval(RESERVE_SCRIPT, 2, KEY.held(owner), KEY.pendingOwners(this.nodeId), pendingField(this.nodeId), max, owner);
    return held !== -1;
  }

  /**
   * Gives back a place `reserve` took. Sent after the socket's own count (`socketOpened`), on the
   * same connection, so the owner's total never dips between the two.
   */
  release(owner: string): void {
    this.redis.eval(RELEASE_SCRIPT, 1, KEY.held(owner), pendingField(this.nodeId)).catch(() => undefined);
  }

  private async rejoin(): Promise<void> {
    if (this.stopped || !this.joined) return;
    this.claimsFrom = Date.now() + this.ttlMs;
    await this.register().catch(() => undefined);
    const held = [...this.options.held()];
    const counts = new Map<string | null, number>();
    for (const [, socket] of held) counts.set(socket.owner, (counts.get(socket.owner) ?? 0) + 1);
    // A key with none left here still had its share written before Redis went: now nothing.
    for (const owner of this.owners) if (!counts.has(owner)) counts.set(owner, 0);
    const tx = this.redis.multi().del(KEY.sockets(this.nodeId));
    if (held.length > 0) tx.hset(KEY.sockets(this.nodeId), Object.fromEntries(held.map(([id, socket]) => [id, JSON.stringify(socket)])));
    // Each owner's count is a share per node, so each node restores its own share.
    for (const [owner, count] of counts) tx.hset(KEY.held(owner), this.nodeId, count);
    await tx.exec().catch(() => undefined);
    await this.beat();
  }

  private async register(): Promise<void> {
    const info = JSON.stringify(this.self);
    await this.redis.multi().set(KEY.node(this.nodeId), info, 'PX', this.ttlMs).hset(KEY.members, this.nodeId, info).exec();
  }

  private beat(): Promise<void> {
    if (this.beating || this.stopped || !this.available) return this.beating ?? Promise.resolve();
    this.beating = this.register()
      .then(() => this.refresh())
      .then(() => this.claimLost())
      .catch(() => undefined)
      .finally(() => (this.beating = null));
    return this.beating;
  }

  /** Reads the members, which of them still beat, and the lost nodes. */
  private async refresh(): Promise<void> {
    const [members, lost] = await Promise.all([this.redis.hgetall(KEY.members), this.redis.smembers(KEY.lost)]);
    const ids = Object.keys(members).filter((id) => id !== this.nodeId);
    const beats = ids.length === 0 ? [] : await this.redis.mget(ids.map(KEY.node));
    const nodes = new Map<string, KnownNode>();
    ids.forEach((id, index) => {
      const beat = beats[index];
      const info = JSON.parse(beat ?? members[id]) as NodeInfo;
      nodes.set(id, { ...info, state: beat === null ? 'unreachable' : 'live' });
    });
    this.nodes = nodes;
    this.lost = new Set(lost);
  }

  private async claimLost(): Promise<void> {
    if (Date.now() < this.claimsFrom) return;
    for (const node of this.nodes.values()) {
      if (node.state !== 'unreachable') continue;
      const won = await this.redis.eval(CLAIM_SCRIPT, 5, KEY.node(node.nodeId), KEY.members, KEY.lost, KEY.sockets(node.nodeId), KEY.claimed(node.nodeId), node.nodeId);
      if (won !== 1) continue;
      const raw = await this.redis.hgetall(KEY.claimed(node.nodeId));
      const sockets = new Map(Object.entries(raw).map(([id, json]) => [id, JSON.parse(json) as HeldSocket]));
      const owners = new Set([...sockets.values()].map((socket) => socket.owner));
      // Its creates in flight died with it: their places go too.
      const pendingOwners = await this.redis.smembers(KEY.pendingOwners(node.nodeId));
      const tx = this.redis.multi().del(KEY.claimed(node.nodeId), KEY.pendingOwners(node.nodeId));
      for (const owner of owners) tx.hdel(KEY.held(owner), node.nodeId);
      for (const owner of pendingOwners) tx.hdel(KEY.held(owner), pendingField(node.nodeId));
      await tx.exec();
      this.nodes.delete(node.nodeId);
      this.lost.add(node.nodeId);
      this.options.onNodeLost({ node, sockets });
    }
  }
}
