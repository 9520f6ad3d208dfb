/** What a socket resource is; also the `kind` field of every representation. */
export const SOCKET_KINDS = ['tcp-listener', 'tcp-connection', 'udp-socket'] as const;
export type SocketKind = (typeof SOCKET_KINDS)[number];

/** Every event the runtime publishes; the events API validates filters and documents its enum from this list. */
export const SOCKET_EVENT_TYPES = [
  'listener.bound',
  'listener.closed',
  'listener.dropped',
  'connection.accepted',
  'connection.opened',
  'connection.data',
  'connection.peer-ended',
  'connection.paused',
  'connection.resumed',
  'connection.closed',
  'udp.bound',
  'udp.datagram',
  'udp.dropped',
  'udp.closed',
] as const;
export type SocketEventType = (typeof SOCKET_EVENT_TYPES)[number];

/** One thing that happened to a socket resource, as the runtime reports it. */
export interface SocketEvent {
  type: SocketEventType;
  resourceId: string;
  kind: SocketKind;
  labels: Readonly<Record<string, string>>;
  /** The API key owning the resource (null when authentication is off); streams show a key only its own. */
  owner: string | null;
  at: Date;
  data: Record<string, string | number | boolean | null>;
  /** Received bytes behind a data event; consumers copy what they keep. */
  payload?: Buffer;
}

export type SocketEventListener = (event: SocketEvent) => void;

/** The fields of a resource every event about it repeats. */
export interface EventSource {
  readonly id: string;
  readonly kind: SocketKind;
  readonly labels: Readonly<Record<string, string>>;
  readonly owner: string | null;
}

/**
 * Fan-out of runtime events. Listeners run synchronously and must not block: the sockets never
 * wait for a consumer (slow consumers queue on their own side).
 */
export class SocketEventBus {
  private readonly listeners = new Set<SocketEventListener>();

  subscribe(listener: SocketEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(event: SocketEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  /** Publishes an event about `source`; builds nothing when no one listens. */
  publishFor(source: EventSource, type: SocketEventType, data: SocketEvent['data'], payload?: Buffer, at: Date = new Date()): void {
    if (this.listeners.size === 0) return;
    this.publish({ type, resourceId: source.id, kind: source.kind, labels: source.labels, owner: source.owner, at, data, payload });
  }

  get hasListeners(): boolean {
    return this.listeners.size > 0;
  }
}
