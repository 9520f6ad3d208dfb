import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { FastifyInstance } from 'fastify';
import { randomInt } from 'node:crypto';
import { AddressInfo } from 'node:net';
import { ApiProblem } from '../common/api-problem';
import { AppConfig } from '../config/app-config';
import { ResourceIds } from '../sockets/ids';
import { SocketEvent } from '../sockets/socket-events';
import { SocketRegistry } from '../sockets/socket-registry';
import { EventsService } from '../events/events.service';
import { ClusterRouter } from './cluster-router';
import { EventFeed } from './event-feed';
import { ClaimedNode, HeldSocket, KnownNode, Membership } from './membership';

/** What `GET /v1/cluster` answers. */
export interface ClusterView {
  clustered: boolean;
  nodeId: string | null;
  nodes: (KnownNode & { self: boolean })[];
}

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A node id made at start: a letter, then five letters or digits. */
function newNodeId(): string {
  let id = ID_ALPHABET[randomInt(26)];
  while (id.length < 6) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

/**
 * This node in its cluster, when `SOCKPLANE_CLUSTER_REDIS_URL` names one; without it, a single
 * node that contacts nothing. Clustered, it stamps its node id on every resource id, joins the
 * cluster once the API listens, records the sockets the registry holds, publishes the loss of
 * nodes it claims, feeds the event streams from the cluster's shared stream (`EventFeed`), and
 * installs the `ClusterRouter` hooks in front of the routes.
 */
@Injectable()
export class ClusterService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(ClusterService.name);
  readonly membership: Membership | null;
  private unsubscribe: () => void = () => undefined;

  private feed: EventFeed | null = null;
  private router: ClusterRouter | null = null;

  constructor(
    private readonly config: AppConfig,
    private readonly registry: SocketRegistry,
    private readonly events: EventsService,
  ) {
    if (config.clusterRedisUrl === null) {
      this.membership = null;
      return;
    }
    const nodeId = newNodeId();
    ResourceIds.stampNode(nodeId);
    this.membership = new Membership(config.clusterRedisUrl, nodeId, {
      heartbeatMs: config.clusterHeartbeatMs,
      load: () => registry.size,
      held: () => heldSockets(registry),
      onNodeLost: (claimed) => this.publishLoss(claimed),
    });
  }

  /** Installs the routing hooks and joins the cluster once the API listens; nothing without a cluster. */
  async install(fastify: FastifyInstance, collectionRoutes: ReadonlyMap<string, readonly string[]>): Promise<void> {
    const membership = this.membership;
    if (membership === null) return;
    const router = new ClusterRouter(membership, {
      secret: this.config.clusterSecret,
      collectionRoutes,
      socketHost: this.config.clusterSocketHost ?? this.config.host,
      maxSocketsPerKey: this.config.maxSocketsPerKey,
      apiKeys: this.config.apiKeys,
      listDeadlineMs: this.config.clusterListDeadlineMs,
      maxWaitMs: this.config.maxWaitMs,
      answerGraceMs: this.config.clusterHeartbeatMs,
    });
    await router.install(fastify);
    this.router = router;
    const feed = new EventFeed(this.config.clusterRedisUrl ?? '', this.events.takeFeed(), {
      streamMax: this.config.clusterEventStreamMax,
      pendingMax: this.config.eventHistory,
      retryMs: Math.min(this.config.clusterHeartbeatMs, 1000),
    });
    this.feed = feed;
    this.unsubscribe = this.registry.events.subscribe((event) => {
      feed.append(event);
      this.track(membership, event);
    });
    fastify.addHook('onListen', async () => {
      await feed.start();
      const { address, port } = fastify.server.address() as AddressInfo;
      const host = address.includes(':') ? `[${address}]` : address;
      await membership.start({ apiUrl: this.config.clusterApiUrl ?? `http://${host}:${port}`, socketHost: this.config.clusterSocketHost ?? this.config.host });
      this.logger.log({ msg: `joined the cluster as node ${membership.nodeId}`, nodeId: membership.nodeId, redis: membership.available });
    });
  }

  /** Whether Redis answers (null: not clustered). */
  get redisAvailable(): boolean | null {
    return this.membership === null ? null : this.membership.available;
  }

  view(): ClusterView {
    const membership = this.membership;
    if (membership === null) return { clustered: false, nodeId: null, nodes: [] };
    if (!membership.available) throw new ApiProblem('CLUSTER_UNAVAILABLE', 'this node cannot reach the cluster (Redis) now');
    return { clustered: true, nodeId: membership.nodeId, nodes: membership.known().map((node) => ({ ...node, self: node.nodeId === membership.nodeId })) };
  }

  /**
   * Shutdown closes the sockets first (the registry's own shutdown then finds none), so their
   * closing reaches the other nodes' event streams and their counts; then the node leaves, and
   * no survivor reports it lost.
   */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.membership !== null) await this.registry.closeAll();
    this.unsubscribe();
    await this.feed?.stop();
    await this.membership?.stop();
    await this.router?.close();
  }

  private track(membership: Membership, event: SocketEvent): void {
    switch (event.type) {
      case 'listener.bound':
      case 'connection.accepted':
      case 'connection.opened':
      case 'udp.bound':
        if (event.kind !== 'cluster-node') membership.socketOpened(event.resourceId, { kind: event.kind, owner: event.owner, labels: event.labels });
        break;
      case 'listener.closed':
      case 'connection.closed':
      case 'udp.closed':
        membership.socketClosed(event.resourceId, event.owner);
        break;
      default:
        break;
    }
  }

  /** The claimant's duty: `node.lost`, then each socket the node held closes with reason `owner-lost`. */
  private publishLoss({ node, sockets }: ClaimedNode): void {
    const { events } = this.registry;
    this.logger.warn({ msg: `node ${node.nodeId} is lost with ${sockets.size} sockets`, nodeId: node.nodeId, apiUrl: node.apiUrl });
    events.publish({ id: node.nodeId, kind: 'cluster-node', labels: {}, owner: null }, 'node.lost', { apiUrl: node.apiUrl, sockets: sockets.size });
    for (const [id, socket] of sockets) {
      const source = { id, ...socket };
      const closed = { reason: 'owner-lost', errno: null, bytesIn: 0, bytesOut: 0 } as const;
      switch (socket.kind) {
        case 'tcp-listener':
          events.publish(source, 'listener.closed', { reason: closed.reason, errno: null });
          break;
        case 'tcp-connection':
          events.publish(source, 'connection.closed', { ...closed, framesIn: 0, framesOut: 0 });
          break;
        case 'udp-socket':
          events.publish(source, 'udp.closed', { ...closed, datagramsIn: 0, datagramsOut: 0 });
          break;
      }
    }
  }
}

/** The sockets the registry holds, as the cluster records them. */
function* heldSockets(registry: SocketRegistry): Generator<[string, HeldSocket]> {
  for (const socket of registry.all()) yield [socket.id, { kind: socket.kind, owner: socket.owner, labels: socket.labels }];
}
