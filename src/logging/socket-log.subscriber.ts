import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Level, Logger } from 'pino';
import { Endpoint } from '../sockets/socket-types';
import { SOCKET_EVENT_TYPES, SocketEvent, SocketEventIn, SocketEventType } from '../sockets/socket-events';
import { Resource, SocketRegistry } from '../sockets/socket-registry';
import { ROOT_LOGGER } from './root-logger';

interface Endpoints {
  local: string | null;
  remote: string | null;
}

/** How each runtime event is logged. Per-chunk, per-datagram and flow-control events go to debug. */
const EVENT_LOGS: Record<SocketEventType, { level: Level; message: string }> = {
  'listener.bound': { level: 'info', message: 'listener bound' },
  'listener.closed': { level: 'info', message: 'listener closed' },
  'listener.dropped': { level: 'debug', message: 'listener dropped an incoming connection' },
  'connection.accepted': { level: 'info', message: 'connection accepted' },
  'connection.opened': { level: 'info', message: 'connection opened' },
  'connection.data': { level: 'debug', message: 'bytes received' },
  'connection.peer-ended': { level: 'info', message: 'peer ended its side' },
  'connection.paused': { level: 'debug', message: 'reading paused: receive buffer full' },
  'connection.resumed': { level: 'debug', message: 'reading resumed' },
  'connection.frame': { level: 'debug', message: 'frame received' },
  'connection.framing-error': { level: 'warn', message: 'received bytes could not be framed' },
  'connection.closed': { level: 'info', message: 'connection closed' },
  'tls.established': { level: 'info', message: 'TLS established' },
  'tls.failed': { level: 'info', message: 'TLS handshake failed' },
  'udp.bound': { level: 'info', message: 'UDP socket bound' },
  'udp.datagram': { level: 'debug', message: 'datagram received' },
  'udp.dropped': { level: 'debug', message: 'datagram dropped' },
  'udp.closed': { level: 'info', message: 'UDP socket closed' },
  'node.lost': { level: 'warn', message: 'cluster node lost' },
  'fault.applied': { level: 'debug', message: 'fault applied' },
  'fault.triggered': { level: 'info', message: 'fault triggered' },
  'fault.expired': { level: 'info', message: 'fault expired' },
  'rule.matched': { level: 'debug', message: 'reply rule matched' },
};

/**
 * Logs socket lifecycle events from the registry's event bus, each line carrying
 * `{socketId, kind, local, remote}` where known; a close caused by an error logs its errno at
 * warn. Payload bytes never reach a log line.
 *
 * It logs through the root logger, not the request-scoped one: a socket outlives the request
 * that opened it, and its lines must not carry that request's id.
 */
@Injectable()
export class SocketLogSubscriber implements OnModuleInit, OnApplicationShutdown {
  private readonly logger: Logger;
  /** Addresses of the sockets seen, so the lines of a socket already forgotten still carry them. */
  private readonly endpoints = new Map<string, Endpoints>();
  private unsubscribe: (() => void) | null = null;

  constructor(
    @Inject(ROOT_LOGGER) root: Logger,
    private readonly registry: SocketRegistry,
  ) {
    this.logger = root.child({ context: SocketLogSubscriber.name });
  }

  onModuleInit(): void {
    // The level is set once at start: the types it leaves out (per chunk, per frame) are not even
    // delivered here. Closes always are: they forget the socket's endpoints, and one with an errno logs at warn.
    const logged = SOCKET_EVENT_TYPES.filter((type) => this.logger.isLevelEnabled(EVENT_LOGS[type].level) || CLOSE_TYPES.has(type));
    this.unsubscribe = this.registry.events.subscribe((event) => this.log(event), logged);
  }

  /** After the registry closed every socket at shutdown, so those closes are logged too. */
  onApplicationShutdown(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  private log(event: SocketEvent): void {
    const { level: usual, message } = EVENT_LOGS[event.type];
    const closing = isClose(event);
    const level: Level = closing && event.data.errno !== null ? 'warn' : usual;
    if (this.logger.isLevelEnabled(level)) {
      const line = { event: event.type, socketId: event.resourceId, kind: event.kind, ...this.endpointsOf(event), ...event.data };
      this.logger[level](Object.keys(event.labels).length > 0 ? { ...line, labels: event.labels } : line, message);
    }
    if (closing) this.endpoints.delete(event.resourceId);
  }

  private endpointsOf(event: SocketEvent): Endpoints {
    const resource = this.registry.find(event.resourceId);
    if (resource) {
      const held = { local: formatEndpoint(resource.local), remote: formatEndpoint(remoteOf(resource)) };
      this.endpoints.set(event.resourceId, held);
      return held;
    }
    const known = this.endpoints.get(event.resourceId);
    if (known) return known;
    // A listener and a UDP socket report their bound address before the registry holds them.
    if (event.type !== 'listener.bound' && event.type !== 'udp.bound') return { local: null, remote: null };
    const { address, port } = event.data;
    const bound = { local: address !== null && port !== null ? formatEndpoint({ address, port }) : null, remote: null };
    if (bound.local) this.endpoints.set(event.resourceId, bound);
    return bound;
  }
}

const CLOSES = ['listener.closed', 'connection.closed', 'udp.closed'] as const;
const CLOSE_TYPES: ReadonlySet<SocketEventType> = new Set(CLOSES);

type CloseEvent = SocketEventIn<typeof CLOSES>;

function isClose(event: SocketEvent): event is CloseEvent {
  return CLOSE_TYPES.has(event.type);
}

/** Listeners have no peer. */
function remoteOf(resource: Resource): Endpoint | null {
  return resource.kind === 'tcp-listener' ? null : resource.remote;
}

function formatEndpoint(endpoint: Pick<Endpoint, 'address' | 'port'> | null): string | null {
  if (!endpoint) return null;
  return endpoint.address.includes(':') ? `[${endpoint.address}]:${endpoint.port}` : `${endpoint.address}:${endpoint.port}`;
}
