import replyFrom from '@fastify/reply-from';
import { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import { Socket, connect } from 'node:net';
import { Agent } from 'undici';
import { ApiProblem } from '../common/api-problem';
import { ERROR_CATALOG, PROBLEM_CONTENT_TYPE, problemType } from '../common/error-catalog';
import { OCTET_STREAM } from '../common/raw-body';
import { BEARER } from '../auth/api-key.hook';
import { findApiKey } from '../auth/api-keys';
import { ApiKey } from '../config/api-keys';
import { REQUEST_ID_HEADER } from '../logging/request-id';
import { SOCKET_KINDS } from '../sockets/socket-events';
import { IdOwner, NODE_ID, ResourceIds } from '../sockets/ids';
import { ClusterCursor, FIRST_PAGE, KEYED_PAGE_TYPE, ListPage, NodePage, decodeClusterCursor, isListPage, mergePages, nodeCursor, parseKeyedPage, renderMergedPage, serializeKeyedPage, toEntries } from './list-merge';
import { KnownNode, Membership } from './membership';

/** The header a node forwards calls with; from anyone without the secret it is dropped. */
export const CLUSTER_SECRET_HEADER = 'sockplane-cluster-secret';

export interface ClusterRouterOptions {
  secret: string;
  /** Route URLs (Fastify form, `/v1/tcp/listeners`) whose GET answers a page `{items, nextCursor}`, with the kinds of their items. */
  collectionRoutes: ReadonlyMap<string, readonly string[]>;
  /** Where clients reach this node's listeners: a listener made here binds it unless told otherwise. */
  socketHost: string;
  /** Sockets one API key may hold across the cluster; 0 = no limit of its own. */
  maxSocketsPerKey: number;
  apiKeys: readonly ApiKey[];
  /** How long a list waits for the other nodes. */
  listDeadlineMs: number;
  /** Longest wait a long-poll may ask for (`waitMs` is cut to it). */
  maxWaitMs: number;
  /**
   * How long past its wait an owner may take to start answering before it counts as not
   * answering: a heartbeat, the interval within which a live node proves it is alive.
   */
  answerGraceMs: number;
}

/**
 * The header with which a node asks another for a list page in the keyed form
 * (`KEYED_PAGE_TYPE`); from anyone without the secret it is dropped.
 */
export const CLUSTER_PAGE_HEADER = 'sockplane-cluster-page';

/** Requests another node forwarded with the right secret: answered here, never forwarded again. */
const fromPeers = new WeakSet<FastifyRequest>();

/** List requests of another node that asked for the keyed form of the page. */
const keyedPageRequests = new WeakSet<FastifyRequest>();

/** A list being gathered: the other nodes' pages on their way while this node's own route makes its page. */
interface Gathering {
  cursor: ClusterCursor;
  /** Whether this node's own page is part of the list (its items are not all given yet). */
  ownPage: boolean;
  /** The other nodes asked, and their answers in the same order. */
  nodes: readonly KnownNode[];
  answers: Promise<(NodePage | Refusal | null)[]>;
  limit: number | undefined;
  /** Called off when this node's own route refused the request. */
  abort: AbortController;
}

const gatherings = new WeakMap<FastifyRequest, Gathering>();

/** Headers a list's fan-out passes on: who is asking, and for what (the request's id goes too, as with every forward, so each node logs the call under one id). */
const FAN_OUT_HEADERS = ['authorization', 'accept'];

/**
 * The cluster layer in front of the feature routes, as Fastify hooks: a call whose path names a
 * resource another node owns goes to that node whole (method, headers, body, query; its answer
 * streams back, long-polls and event streams included); a list is gathered from every live node
 * and merged; a create with `placement` goes to the node it names. The owner authenticates the
 * caller and checks ownership exactly as a single node does: these hooks run before that.
 */
export class ClusterRouter {
  private readonly secret: Buffer;
  /** Keep-alive connections to the other nodes, for forwards and lists alike. */
  private readonly agent: Agent;
  /** Clients' sockets of the upgrades tunnelled to their owner, ended when this node stops. */
  private readonly tunnels = new Set<Socket>();

  constructor(
    private readonly membership: Membership,
    private readonly options: ClusterRouterOptions,
  ) {
    this.secret = Buffer.from(options.secret);
    // An event stream is silent between heartbeats for as long as it likes: no body timeout.
    this.agent = new Agent({ connect: { timeout: options.answerGraceMs }, bodyTimeout: 0 });
  }

  async install(fastify: FastifyInstance): Promise<void> {
    await fastify.register(replyFrom, { disableRequestLogging: true, undici: this.agent });
    // Forwards and lists at onRequest: before this node parses the body (it goes on as it came)
    // or checks the API key, which the owner checks.
    fastify.addHook('onRequest', async (request, reply) => {
      this.authenticatePeer(request);
      return this.routeByPath(request, reply);
    });
    // A page is complete once the route made it: the gathered list merges it with the others'.
    fastify.addHook('preSerialization', async (request, reply, payload) => {
      const gathering = gatherings.get(request);
      if (keyedPageRequests.has(request)) this.answerKeyed(reply, payload);
      else if (gathering !== undefined) await this.answerGathered(gathering, reply, payload);
      return payload;
    });
    // Creates at preValidation, where their body is parsed: placement and quota read it.
    fastify.addHook('preValidation', async (request, reply) => this.routeCreate(request, reply));
  }

  /**
   * Closes the connections to the other nodes, and ends the tunnels: a tunnelled WebSocket is
   * bytes to this node, which cannot close it with a frame of its own mid-stream, so its client
   * sees the connection drop (1006) while the owner's end detaches as from any client gone.
   */
  async close(): Promise<void> {
    for (const client of this.tunnels) client.destroy();
    await this.agent.close();
  }

  private authenticatePeer(request: FastifyRequest): void {
    const pageForm = request.headers[CLUSTER_PAGE_HEADER];
    delete request.headers[CLUSTER_PAGE_HEADER];
    const header = request.headers[CLUSTER_SECRET_HEADER];
    if (header === undefined) return;
    delete request.headers[CLUSTER_SECRET_HEADER];
    const given = Buffer.from(Array.isArray(header) ? header.join(',') : header);
    if (given.length !== this.secret.length || !timingSafeEqual(given, this.secret)) return;
    fromPeers.add(request);
    if (pageForm === KEYED_PAGE_TYPE && request.method === 'GET' && this.options.collectionRoutes.has(request.routeOptions.url ?? '')) keyedPageRequests.add(request);
  }

  /** A call for another node's resource goes there; a list is gathered. Another node's call is answered here. */
  private async routeByPath(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    if (fromPeers.has(request) || !request.url.startsWith('/v1/')) return undefined;
    const owner = ownerInPath(request.url);
    if (owner !== null) return owner.node === this.membership.nodeId ? undefined : this.forward(request, reply, owner.node);
    if (request.method === 'GET' && this.options.collectionRoutes.has(request.routeOptions.url ?? '')) this.gather(request);
    return undefined;
  }

  private async routeCreate(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const kinds = this.options.collectionRoutes.get(request.routeOptions.url ?? '');
    if (request.method !== 'POST' || kinds === undefined || !request.url.startsWith('/v1/')) return undefined;
    const makesListener = kinds.length === 1 && kinds[0] === 'tcp-listener';
    // Placed here by another node, which checked the quota: made here.
    if (fromPeers.has(request)) {
      if (makesListener) this.bindWhereReachable(request);
      return undefined;
    }
    if (kinds.length > 0 && kinds.every((kind) => (SOCKET_KINDS as readonly string[]).includes(kind))) await this.assertKeyQuota(request, reply);
    return this.place(request, reply, makesListener);
  }

  /**
   * A listener made here without `host` binds the node's socket host, so its `local` address
   * is the one clients dial: the load balancer fronts the API, not the listeners.
   */
  private bindWhereReachable(request: FastifyRequest): void {
    const body = request.body;
    if (typeof body !== 'object' || body === null || 'host' in body) return;
    (body as Record<string, unknown>).host = this.options.socketHost;
  }

  /**
   * A key's socket quota holds across the cluster: its sockets on every node, and its creates in
   * flight, are counted in Redis, and a create takes its place atomically before it is made (or
   * forwarded to the node it is placed on), giving it back once answered — by then a socket it
   * made is counted in its node's share. Without Redis, or without a valid key (the owner
   * refuses that), each node's own count still applies.
   */
  private async assertKeyQuota(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const { maxSocketsPerKey, apiKeys } = this.options;
    if (maxSocketsPerKey === 0 || apiKeys.length === 0 || !this.membership.available) return;
    const token = BEARER.exec(request.headers.authorization ?? '')?.[1];
    const key = token === undefined ? null : findApiKey(apiKeys, token);
    if (key === null) return;
    const reserved = await this.membership.reserve(key.name, maxSocketsPerKey).catch(() => undefined);
    // Redis went away meanwhile: each node's own count applies, as without Redis.
    if (reserved === undefined) return;
    if (!reserved) {
      throw new ApiProblem('QUOTA_EXCEEDED', `this API key holds ${maxSocketsPerKey} sockets across the cluster (made or being made), its limit`, {
        limit: 'maxSocketsPerKey',
        max: maxSocketsPerKey,
      });
    }
    reply.raw.once('close', () => this.membership.release(key.name));
  }

  /** Sends the call to the node that owns its resource, or says why it cannot. */
  private async forward(request: FastifyRequest, reply: FastifyReply, nodeId: string): Promise<FastifyReply | undefined> {
    const where = await this.membership.whereabouts(nodeId);
    switch (where.state) {
      case 'live':
        return isUpgrade(request) ? this.tunnel(request, reply, where.node) : this.sendTo(request, reply, where.node);
      case 'lost':
        throw new ApiProblem('OWNER_LOST', `node ${nodeId}, which held this socket, is lost`, { nodeId });
      case 'unreachable':
        throw new ApiProblem('OWNER_UNREACHABLE', `node ${nodeId}, which holds this socket, is not heartbeating`, { nodeId });
      case 'cluster-unavailable':
        throw new ApiProblem('CLUSTER_UNAVAILABLE', `this socket is held by node ${nodeId}, and the cluster cannot be reached to find it`, { nodeId });
      case 'unknown':
        // No such node: the id was never given out, and the route answers 404 as for any unknown id.
        return undefined;
    }
  }

  /**
   * Forwards the call to `node`: with `body`, that body as JSON (a create whose placement was
   * taken out); otherwise the request's own body, unparsed. A small body is read whole and a
   * small answer is sent whole: each then goes in one write, where streaming them cost a write
   * per piece, and writes were most of what a forwarded send cost this node (bench/README.md).
   * Larger ones, and answers of unknown length (event streams), stream through.
   */
  private async sendTo(request: FastifyRequest, reply: FastifyReply, node: KnownNode, body?: Record<string, unknown>): Promise<FastifyReply> {
    let payload: { body?: string | Buffer; contentType?: string } = {};
    if (body !== undefined) payload = { body: JSON.stringify(body), contentType: 'application/json' };
    else if (isSmall(request.headers['content-length'])) payload = { body: await readWhole(request.raw), contentType: String(request.headers['content-type'] ?? OCTET_STREAM) };
    else if (hasBody(request)) request.body = request.raw;
    const waitMs = Math.min(Number((request.query as Record<string, unknown>).waitMs) || 0, this.options.maxWaitMs);
    return reply.from(node.apiUrl + request.url, {
      ...payload,
      timeout: waitMs + this.options.answerGraceMs,
      rewriteRequestHeaders: (_request, headers) => ({ ...headers, [CLUSTER_SECRET_HEADER]: this.options.secret, [REQUEST_ID_HEADER]: request.id }),
      // A call is sent once: reply-from would repeat a GET that answered 503.
      retryDelay: () => null,
      onResponse: (_request, forwarded, answer) => {
        // The answer's headers are the reply's by now.
        const length = forwarded.getHeader('content-length');
        if (!isSmall(length === undefined ? undefined : String(length))) {
          forwarded.send(answer.stream);
          return;
        }
        readWhole(answer.stream).then(
          (whole) => forwarded.send(whole),
          () => forwarded.raw.destroy(),
        );
      },
      // It may have been lost since the last heartbeat: then the answer is that it is gone.
      onError: (failed) => {
        void this.membership.whereabouts(node.nodeId, true).then((where) =>
          failed.send(
            where.state === 'lost'
              ? new ApiProblem('OWNER_LOST', `node ${node.nodeId}, which held this socket, is lost`, { nodeId: node.nodeId })
              : new ApiProblem('OWNER_UNREACHABLE', `node ${node.nodeId}, which holds this socket, did not answer`, { nodeId: node.nodeId }),
          ),
        );
      },
    });
  }

  /**
   * An upgrade (a WebSocket attach) goes to the owner as a byte tunnel: the request as it came,
   * with the cluster secret, then both ways whatever either side sends (the owner's 101 and
   * frames included). reply-from answers requests, not upgrades.
   */
  private tunnel(request: FastifyRequest, reply: FastifyReply, node: KnownNode): FastifyReply {
    reply.hijack();
    const client = request.raw.socket;
    this.tunnels.add(client);
    client.once('close', () => this.tunnels.delete(client));
    const target = new URL(node.apiUrl);
    const headers: Record<string, string | string[] | undefined> = { ...request.headers, host: target.host, [CLUSTER_SECRET_HEADER]: this.options.secret, [REQUEST_ID_HEADER]: request.id };
    const lines = Object.entries(headers).flatMap(([name, value]) => (value === undefined ? [] : [value].flat().map((one) => `${name}: ${one}\r\n`)));
    const upstream = connect({ host: target.hostname, port: Number(target.port) });
    upstream.setNoDelay(true);
    upstream.once('connect', () => {
      upstream.write(`${request.method} ${request.url} HTTP/1.1\r\n${lines.join('')}\r\n`);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.once('error', () => {
      if (upstream.bytesRead === 0 && client.writable) client.end(unreachableResponse(node.nodeId));
      else client.destroy();
    });
    client.once('error', () => upstream.destroy());
    client.once('close', () => upstream.destroy());
    return reply;
  }

  /**
   * A list through any node: the other live nodes are asked for their pages (in the keyed form)
   * at once, and this node's own page is made by the route itself, with the key check,
   * validation and filters of a single node; `answerGathered` merges them when it is made. The
   * request's cluster cursor becomes this node's own cursor on the way.
   */
  private gather(request: FastifyRequest): void {
    const query = request.query as Record<string, string | string[]>;
    const cursor: ClusterCursor = typeof query.cursor === 'string' ? decodeClusterCursor(query.cursor) : FIRST_PAGE;
    delete query.cursor;
    const shared = { ...query };
    const own = nodeCursor(cursor, this.membership.nodeId);
    if (own !== undefined) query.cursor = own;
    const nodes = this.membership.live().filter((node) => node.nodeId !== this.membership.nodeId && !cursor.done.includes(node.nodeId));
    const path = request.url.split('?')[0];
    const headers: Record<string, string> = { [CLUSTER_SECRET_HEADER]: this.options.secret, [CLUSTER_PAGE_HEADER]: KEYED_PAGE_TYPE, [REQUEST_ID_HEADER]: request.id };
    for (const name of FAN_OUT_HEADERS) {
      const value = request.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const abort = new AbortController();
    const signal = AbortSignal.any([abort.signal, AbortSignal.timeout(this.options.listDeadlineMs)]);
    const answers = Promise.all(nodes.map((node) => this.pageOf(node, path, shared, nodeCursor(cursor, node.nodeId), headers, signal)));
    const limit = typeof shared.limit === 'string' ? Number(shared.limit) : undefined;
    gatherings.set(request, { cursor, ownPage: !cursor.done.includes(this.membership.nodeId), nodes, answers, limit, abort });
  }

  /**
   * This node's page, made by its route, merged with the other nodes' into the list's answer:
   * their items' JSON is copied, never parsed. A refusal of this node's route is the answer as
   * it is; a refusal of another node's (a 4xx every node would give) is relayed.
   */
  private async answerGathered(gathering: Gathering, reply: FastifyReply, payload: unknown): Promise<void> {
    if (reply.statusCode !== 200 || !isListPage(payload)) {
      gathering.abort.abort();
      return;
    }
    const answers = await gathering.answers;
    const refusal = answers.find((answer): answer is Refusal => answer !== null && 'status' in answer);
    if (refusal) {
      reply.status(refusal.status).headers(refusal.headers).serializer(() => refusal.body);
      return;
    }
    const pages = answers.filter((answer): answer is NodePage => answer !== null && 'entries' in answer);
    if (gathering.ownPage) pages.unshift({ node: this.membership.nodeId, entries: toEntries(payload.items), nextCursor: payload.nextCursor });
    const missingNodes = gathering.nodes.filter((_node, index) => answers[index] === null).map((node) => node.nodeId);
    const text = renderMergedPage(mergePages(pages, gathering.cursor, missingNodes, gathering.limit), missingNodes);
    reply.serializer(() => text);
  }

  /** Another node's list request gets its page in the keyed form, which it merges without parsing the items. */
  private answerKeyed(reply: FastifyReply, payload: unknown): void {
    if (reply.statusCode !== 200 || !isListPage(payload)) return;
    reply.type(KEYED_PAGE_TYPE).serializer((page: ListPage) => serializeKeyedPage(page));
  }

  /** One node's page; its refusal (a 4xx every node would give) as it is; null when it did not answer in time. */
  private async pageOf(
    node: KnownNode,
    path: string,
    query: Record<string, string | string[]>,
    cursor: string | undefined,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<NodePage | Refusal | null> {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) for (const one of [value].flat()) search.append(name, one);
    if (cursor !== undefined) search.set('cursor', cursor);
    try {
      const response = await this.agent.request({ origin: node.apiUrl, method: 'GET', path: `${path}?${search}`, headers, signal });
      const text = await response.body.text();
      if (response.statusCode === 200) return response.headers['content-type'] === KEYED_PAGE_TYPE ? parseKeyedPage(node.nodeId, text) : null;
      if (response.statusCode >= 500) return null;
      return { status: response.statusCode, headers: { 'content-type': String(response.headers['content-type'] ?? PROBLEM_CONTENT_TYPE) }, body: text };
    } catch {
      return null;
    }
  }

  /**
   * A create with `placement` is made where it says (forwarded without the field, which the
   * feature code never sees); one that stays here, if it makes a listener, binds where clients
   * reach this node.
   */
  private async place(request: FastifyRequest, reply: FastifyReply, makesListener: boolean): Promise<FastifyReply | undefined> {
    const body = request.body;
    if (typeof body === 'object' && body !== null && 'placement' in body) {
      const { placement, ...rest } = body as { placement: unknown } & Record<string, unknown>;
      const target = await this.placementNode(placement);
      if (target === undefined) return undefined;
      if (target !== null && target.nodeId !== this.membership.nodeId) return this.sendTo(request, reply, target, rest);
      request.body = rest;
    }
    if (makesListener) this.bindWhereReachable(request);
    return undefined;
  }

  /**
   * The node a well-formed `placement` names: null for this node, undefined when it is
   * malformed, which is left in the body for the route's validation to refuse.
   */
  private async placementNode(placement: unknown): Promise<KnownNode | null | undefined> {
    if (!isPlacement(placement)) return undefined;
    const { node, spread } = placement;
    if (node !== undefined) {
      if (node === this.membership.nodeId) return null;
      const where = await this.membership.whereabouts(node);
      if (where.state === 'live') return where.node;
      if (where.state === 'cluster-unavailable') throw new ApiProblem('CLUSTER_UNAVAILABLE', `placement names node ${node}, and the cluster cannot be reached`, { nodeId: node });
      const message = `placement names node ${node}, which is not a live node of GET /v1/cluster`;
      throw new ApiProblem('VALIDATION_FAILED', message, {}, [{ field: 'placement.node', message }]);
    }
    if (spread !== true) return null;
    const live = this.membership.live();
    return live.reduce((least, candidate) => (candidate.load < least.load ? candidate : least), live[0]);
  }
}

/** `{node}`, `{spread}`, both or neither, and nothing else. */
function isPlacement(value: unknown): value is { node?: string; spread?: boolean } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { node, spread, ...others } = value as Record<string, unknown>;
  return Object.keys(others).length === 0 && (node === undefined || (typeof node === 'string' && NODE_ID.test(node))) && (spread === undefined || typeof spread === 'boolean');
}

/** A 4xx answer of a node's page, relayed as it is. */
interface Refusal {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Bodies and answers up to this size are forwarded whole rather than streamed. */
const SMALL_BYTES = 64 * 1024;

/** A declared length of at least one byte and at most SMALL_BYTES. */
function isSmall(contentLength: string | string[] | undefined): boolean {
  const length = Number(contentLength);
  return typeof contentLength === 'string' && length > 0 && length <= SMALL_BYTES;
}

async function readWhole(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}

/** Whether the request carries a body (it is forwarded unread). */
function hasBody(request: FastifyRequest): boolean {
  return request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0;
}

function isUpgrade(request: FastifyRequest): boolean {
  return typeof request.headers.upgrade === 'string';
}

/** A whole HTTP/1.1 answer for a tunnel that never reached its owner: the problem a forward would give. */
function unreachableResponse(nodeId: string): string {
  const { status, title, retryAfterSeconds } = ERROR_CATALOG.OWNER_UNREACHABLE;
  const body = JSON.stringify({ type: problemType('OWNER_UNREACHABLE'), title, status, code: 'OWNER_UNREACHABLE', nodeId, detail: `node ${nodeId}, which holds this socket, did not answer` });
  const head = [`HTTP/1.1 ${status} Service Unavailable`, `content-type: ${PROBLEM_CONTENT_TYPE}; charset=utf-8`, `retry-after: ${retryAfterSeconds}`, `content-length: ${Buffer.byteLength(body)}`, 'connection: close'];
  return `${head.join('\r\n')}\r\n\r\n${body}`;
}

/** The owner of the first clustered id among the path's segments. */
function ownerInPath(url: string): IdOwner | null {
  const path = url.split('?')[0];
  for (const segment of path.split('/')) {
    const owner = ResourceIds.ownerOf(segment);
    if (owner !== null) return owner;
  }
  return null;
}
