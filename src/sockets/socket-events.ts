import { DROP_CAUSES } from './datagram-log';
import { SocketErrorCode } from './socket-error';
import { TlsClientErrorCode } from './tls/tls-error';
import { FRAMING_ERROR_ACTIONS } from './framing/framing';
import { CLOSE_REASONS } from './socket-types';
import { RULE_TRIGGERS } from './rules/rule-spec';

/** What a socket resource is; also the `kind` field of every representation (`cluster-node` only in `node.lost` events, about a node). */
export const SOCKET_KINDS = ['tcp-listener', 'tcp-connection', 'udp-socket', 'cluster-node'] as const;
export type SocketKind = (typeof SOCKET_KINDS)[number];

/** Why a listener dropped a connection as it arrived. */
export const LISTENER_DROP_REASONS = ['max-connections', 'quota', 'shutting-down'] as const;
/** Which cap stopped a connection's reading: its own buffer cap, or the total of all connections. */
export const PAUSE_CAUSES = ['cap', 'total-cap'] as const;

/** The JSON schema of one field of an event's data, as the OpenAPI document shows it. */
export interface EventFieldSchema {
  readonly type: 'string' | 'integer';
  readonly description: string;
  readonly nullable?: true;
  readonly enum?: readonly string[];
}

/** A field's schema, carrying the TypeScript type of its values (`V` exists for the compiler only). */
export interface EventField<V> {
  readonly schema: EventFieldSchema;
  readonly valueType?: V;
}

const integer = (description: string): EventField<number> => ({ schema: { type: 'integer', description } });
const text = (description: string): EventField<string> => ({ schema: { type: 'string', description } });
const oneOf = <V extends string>(values: readonly V[], description: string): EventField<V> => ({ schema: { type: 'string', enum: values, description } });
const orNull = <V>(field: EventField<V>): EventField<V | null> => ({ schema: { ...field.schema, nullable: true } });

const remoteAddress = orNull(text('The peer’s address'));
const remotePort = orNull(integer('The peer’s port'));
const closeReason = oneOf(CLOSE_REASONS, 'Why it closed');
const errno = orNull(text('The errno code, for `peer-reset` and `error`'));
const bytesIn = integer('Bytes received over its life');
const bytesOut = integer('Bytes sent over its life');

/**
 * Every event the runtime publishes, with the fields of its `data`. This table is the one
 * source: `SocketEventMap` (the data's TypeScript type per event type) is derived from it, and
 * so is the events API's OpenAPI schema, so the two cannot disagree.
 */
export const SOCKET_EVENTS = {
  'listener.bound': {
    description: 'A listener is bound and accepting',
    data: { address: orNull(text('The bound address')), port: orNull(integer('The bound port (the real one when 0 was asked)')) },
  },
  'listener.closed': {
    description: 'A listener stopped accepting',
    data: { reason: closeReason, errno },
  },
  'listener.dropped': {
    description: 'A listener dropped a connection as it arrived: over `maxConnections`, over a socket quota, or during shutdown',
    data: { reason: oneOf(LISTENER_DROP_REASONS, 'Why it was dropped'), remoteAddress, remotePort },
  },
  'connection.accepted': {
    description: 'A listener accepted a connection',
    data: { listenerId: orNull(text('The listener that accepted it')), remoteAddress, remotePort },
  },
  'connection.opened': {
    description: 'An outbound connection is established',
    data: { listenerId: orNull(text('Always null: no listener accepted it')), remoteAddress, remotePort },
  },
  'connection.data': {
    description: 'Bytes arrived: the byte-log offsets they got',
    data: { from: integer('Offset of the first byte'), to: integer('Offset after the last byte'), byteCount: integer('How many bytes') },
  },
  'connection.peer-ended': {
    description: 'The peer sent FIN: every byte has arrived',
    data: { endOffset: integer('Offset after the last byte received') },
  },
  'connection.paused': {
    description: 'Reading stopped at the buffer cap (`cap`) or the total cap of all connections (`total-cap`): TCP pushes back on the peer',
    data: { heldBytes: integer('Unreleased bytes held'), cause: oneOf(PAUSE_CAUSES, 'Which cap was reached') },
  },
  'connection.resumed': {
    description: 'Reading started again after a release',
    data: { heldBytes: integer('Unreleased bytes held') },
  },
  'connection.frame': {
    description: 'The connection’s framing found a frame: its index and its bytes in the byte log (the payload is its data, header or delimiter cut off)',
    data: { index: integer('Its index (the first frame is 0)'), from: integer('Offset of its first byte'), to: integer('Offset after its last byte'), size: integer('Bytes of its data') },
  },
  'connection.framing-error': {
    description: 'The received bytes could not be framed (a frame over maxFrameBytes, a length field that cannot be valid): framing stopped; the bytes are still kept',
    data: {
      offset: integer('Offset where the frame that could not be framed begins'),
      message: text('What was wrong'),
      action: oneOf(FRAMING_ERROR_ACTIONS, '`record`: the connection stays open without framing; `close`: it closes with reason `framing-error`'),
    },
  },
  'connection.closed': {
    description: 'A connection closed; its final counters',
    data: { reason: closeReason, errno, bytesIn, bytesOut, framesIn: integer('Frames received over its life'), framesOut: integer('Frames sent over its life') },
  },
  'tls.established': {
    description: 'A connection’s TLS handshake succeeded',
    data: {
      protocol: text('The TLS version, as OpenSSL names it (`TLSv1.3`)'),
      cipher: text('The cipher suite’s IANA name'),
      servername: orNull(text('The server name the client asked for (SNI)')),
      alpnProtocol: orNull(text('The protocol ALPN chose')),
      handshakeMs: integer('How long the handshake took'),
    },
  },
  'tls.failed': {
    description: 'A connection’s TLS handshake failed; the connection closes',
    data: { reason: text('Why, in OpenSSL’s words'), handshakeMs: integer('How long the handshake ran before it failed') },
  },
  'udp.bound': {
    description: 'A UDP socket is bound (and connected to its default peer, if it has one)',
    data: {
      address: orNull(text('The bound address')),
      port: orNull(integer('The bound port')),
      remoteAddress: orNull(text('The default peer’s address')),
      remotePort: orNull(integer('The default peer’s port')),
    },
  },
  'udp.datagram': {
    description: 'A datagram arrived',
    data: { seq: integer('Its sequence number'), remoteAddress: text('The sender’s address'), remotePort: integer('The sender’s port'), size: integer('Payload bytes') },
  },
  'udp.dropped': {
    description: 'A datagram arrived at a full datagram log and was dropped',
    data: {
      remoteAddress: text('The sender’s address'),
      remotePort: integer('The sender’s port'),
      size: integer('Payload bytes'),
      cause: oneOf(DROP_CAUSES, 'Which cap refused it'),
      dropped: integer('Datagrams this socket dropped so far'),
    },
  },
  'udp.closed': {
    description: 'A UDP socket closed; its final counters',
    data: {
      reason: closeReason,
      errno,
      bytesIn,
      bytesOut,
      datagramsIn: integer('Datagrams received over its life'),
      datagramsOut: integer('Datagrams sent over its life'),
    },
  },
  'node.lost': {
    description: 'A cluster node missed three heartbeats and is lost; each socket it held gets its `*.closed` event with reason `owner-lost` (its counters as last known: 0)',
    data: { apiUrl: text('Where the node served its API'), sockets: integer('How many sockets it held') },
  },
  'fault.applied': {
    description: 'A fault was put on a connection (its selection chose it)',
    data: { faultId: text('The fault'), type: text('The fault’s type') },
  },
  'fault.triggered': {
    description: 'A fault’s trigger (`afterBytes`, `afterMs`) fired on a connection: it acts from now on',
    data: { faultId: text('The fault'), type: text('The fault’s type') },
  },
  'fault.expired': {
    description: 'A fault’s `expiresAfterMs` ran out: it was taken off the connection',
    data: { faultId: text('The fault'), type: text('The fault’s type') },
  },
  'rule.matched': {
    description: 'A reply rule matched on a connection or UDP socket; its answer follows',
    data: {
      ruleId: text('The rule’s id'),
      trigger: oneOf(RULE_TRIGGERS, 'What it matched: `frame` (a frame, or a received chunk without framing), `connect`, `idle`, `peer-end`, `datagram`'),
      index: orNull(integer('The frame index (the datagram’s sequence number for UDP); null for a chunk without framing and for connect, idle and peer-end')),
      state: orNull(text('The state after the match (its `setState` applied)')),
    },
  },
} as const satisfies Record<string, { description: string; data: Record<string, EventField<unknown>> }>;

export type SocketEventType = keyof typeof SOCKET_EVENTS;

/** Every event type, in the table's order; the events API validates filters and documents its enum from this list. */
export const SOCKET_EVENT_TYPES = Object.keys(SOCKET_EVENTS) as readonly SocketEventType[];

/** The event types the cluster layer publishes on the bus (about nodes); the runtime publishes all the others. */
export const CLUSTER_EVENT_TYPES: readonly SocketEventType[] = ['node.lost'];

type ValuesOf<Fields> = { [K in keyof Fields]: Fields[K] extends EventField<infer V> ? V : never };

/** The data each event type carries. */
export type SocketEventMap = { [T in SocketEventType]: ValuesOf<(typeof SOCKET_EVENTS)[T]['data']> };

/** One thing that happened to a socket resource, of type `T`. */
export interface SocketEventOf<T extends SocketEventType> {
  type: T;
  resourceId: string;
  kind: SocketKind;
  labels: Readonly<Record<string, string>>;
  /** The API key owning the resource (null when authentication is off); streams show a key only its own. */
  owner: string | null;
  at: Date;
  data: SocketEventMap[T];
  /** Received bytes behind a data event; consumers copy what they keep. */
  payload?: Buffer;
}

/** Any runtime event; a `switch` on `type` narrows `data`. */
export type SocketEvent = { [T in SocketEventType]: SocketEventOf<T> }[SocketEventType];

/** The data of any event type. */
export type SocketEventData = SocketEventMap[SocketEventType];

export type SocketEventListener = (event: SocketEvent) => void;

/** The events of the types listed in `Types`: what a listener subscribed to those types gets. */
export type SocketEventIn<Types extends readonly SocketEventType[]> = Extract<SocketEvent, { type: Types[number] }>;

/** The outcome of an outbound connect attempt: `connected` or the error code it failed with. */
export type ConnectOutcome = 'connected' | SocketErrorCode | TlsClientErrorCode;
export type ConnectAttemptListener = (outcome: ConnectOutcome) => void;

/** The fields of a resource every event about it repeats. */
export interface EventSource {
  readonly id: string;
  readonly kind: SocketKind;
  readonly labels: Readonly<Record<string, string>>;
  readonly owner: string | null;
}

/** What a type no one listens to has: one shared empty array. */
const NO_LISTENERS: readonly SocketEventListener[] = [];

/**
 * Fan-out of runtime events. Listeners run synchronously and must not block: the sockets never
 * wait for a consumer (slow consumers queue on their own side).
 *
 * Connect attempts are a signal of their own, not an event: a connect that fails never became
 * a resource, so there is nothing for an event to be about (and nothing for event streams to
 * show). Metrics count them.
 */
export class SocketEventBus {
  /**
   * Each type's listeners, in the order they subscribed; an array replaced (not changed) on each
   * (un)subscribe, so a publish in progress runs to its end. Every type has its array (empty
   * while no one listens), so a publish finds it with a property read, not a Map look-up.
   */
  private readonly byType = Object.fromEntries(SOCKET_EVENT_TYPES.map((type) => [type, NO_LISTENERS])) as Record<SocketEventType, readonly SocketEventListener[]>;
  private readonly attemptListeners = new Set<ConnectAttemptListener>();

  /**
   * `listener` gets the events of `types` (every type by default). Naming only the types it
   * handles keeps the per-frame and per-chunk events from calling it: a frame answered by a rule
   * publishes two events, and each listener called for nothing was a share of the reply.
   */
  subscribe(listener: SocketEventListener): () => void;
  subscribe<const Types extends readonly SocketEventType[]>(listener: (event: SocketEventIn<Types>) => void, types: Types): () => void;
  subscribe(listener: SocketEventListener, types: readonly SocketEventType[] = SOCKET_EVENT_TYPES): () => void {
    for (const type of types) this.byType[type] = [...this.byType[type], listener];
    return () => {
      for (const type of types) this.byType[type] = this.byType[type].filter((each) => each !== listener);
    };
  }

  subscribeConnectAttempts(listener: ConnectAttemptListener): () => void {
    this.attemptListeners.add(listener);
    return () => this.attemptListeners.delete(listener);
  }

  /** Publishes an event about `source`; builds nothing when no one listens to its type. */
  publish<T extends SocketEventType>(source: EventSource, type: T, data: SocketEventMap[T], payload?: Buffer, at: Date = new Date()): void {
    const listeners = this.byType[type];
    if (listeners.length === 0) return;
    const event: SocketEventOf<T> = { type, resourceId: source.id, kind: source.kind, labels: source.labels, owner: source.owner, at, data, payload };
    for (const listener of listeners) listener(event as SocketEvent);
  }

  connectAttempted(outcome: ConnectOutcome): void {
    for (const listener of this.attemptListeners) listener(outcome);
  }
}
