import { Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { AppConfig } from '../config/app-config';
import { SocketEvent } from '../sockets/socket-events';
import { SocketRegistry } from '../sockets/socket-registry';

/** Route label of requests that matched no route, so unknown URLs cannot create series. */
const UNMATCHED_ROUTE = 'unmatched';

/**
 * Prometheus metrics in a registry of this app's own (not prom-client's global one), so several
 * apps in one process keep apart. Labels are bounded: kinds, states, outcomes, route patterns;
 * never a socket id or a raw URL.
 *
 * Counters of things that happen come from the registry's event bus; gauges, sent totals and
 * connect outcomes are read from the socket registry at scrape time.
 */
@Injectable()
export class MetricsService implements OnModuleInit, OnApplicationShutdown {
  readonly registry = new Registry();
  private unsubscribe: (() => void) | null = null;

  /**
   * Received bytes and datagrams by kind, added up per event and handed to their counters at
   * scrape time: a labelled `inc` hashes its labels, and these move with every received chunk
   * and datagram.
   */
  private readonly bytesReceived = new Map<string, number>([['tcp-connection', 0]]);
  private readonly datagramsReceived = new Map<string, number>();
  private readonly accepts: Counter;
  private readonly backpressurePauses: Counter<'kind'>;
  private readonly droppedConnections: Counter<'reason'>;
  private readonly droppedDatagrams: Counter<'reason'>;
  private readonly requestDuration: Histogram<'method' | 'route' | 'status'>;

  constructor(
    private readonly sockets: SocketRegistry,
    private readonly config: AppConfig,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });

    new Gauge({
      name: 'sockplane_sockets',
      help: 'Sockets held, by kind and state',
      labelNames: ['kind', 'state'],
      registers,
      collect() {
        this.reset();
        for (const socket of sockets.all()) this.inc({ kind: socket.kind, state: socket.state });
      },
    });
    new Gauge({
      name: 'sockplane_sockets_limit',
      help: 'Sockets the service may hold at once (SOCKPLANE_MAX_SOCKETS)',
      registers,
      collect() {
        this.set(config.maxSockets);
      },
    });
    new Gauge({
      name: 'sockplane_buffered_bytes',
      help: 'Received bytes held in buffers, not yet released by the caller',
      labelNames: ['kind'],
      registers,
      collect() {
        this.reset();
        this.set({ kind: 'tcp-connection' }, 0);
        for (const socket of sockets.all()) {
          if (socket.kind === 'tcp-connection') this.inc({ kind: socket.kind }, socket.buffer.heldBytes);
        }
      },
    });
    new Counter({
      name: 'sockplane_sent_bytes_total',
      help: 'Bytes sent to peers (by API sends and echo mode), by kind',
      labelNames: ['kind'],
      registers,
      collect() {
        this.reset();
        this.inc({ kind: 'tcp-connection' }, 0);
        for (const [kind, sent] of sockets.sentTotals()) if (sent.bytesOut > 0) this.inc({ kind }, sent.bytesOut);
      },
    });
    new Counter({
      name: 'sockplane_sent_datagrams_total',
      help: 'Datagrams sent, by kind',
      labelNames: ['kind'],
      registers,
      collect() {
        this.reset();
        for (const [kind, sent] of sockets.sentTotals()) if (sent.datagramsOut > 0) this.inc({ kind }, sent.datagramsOut);
      },
    });
    new Counter({
      name: 'sockplane_tcp_connects_total',
      help: 'Outbound TCP connect attempts, by outcome: "connected" or the error code',
      labelNames: ['outcome'],
      registers,
      collect() {
        this.reset();
        this.inc({ outcome: 'connected' }, 0);
        for (const [outcome, count] of sockets.connectAttempts) this.inc({ outcome }, count);
      },
    });

    const received = (name: string, help: string, byKind: ReadonlyMap<string, number>): void => {
      new Counter({
        name,
        help,
        labelNames: ['kind'],
        registers,
        collect() {
          this.reset();
          for (const [kind, count] of byKind) this.inc({ kind }, count);
        },
      });
    };
    received('sockplane_received_bytes_total', 'Bytes received from peers, by kind', this.bytesReceived);
    received('sockplane_received_datagrams_total', 'Datagrams received, by kind', this.datagramsReceived);
    this.accepts = new Counter({ name: 'sockplane_tcp_accepts_total', help: 'Connections accepted by TCP listeners', registers });
    this.backpressurePauses = new Counter({
      name: 'sockplane_backpressure_pauses_total',
      help: 'Times a socket stopped reading because its receive buffer was full (the peer is pushed back)',
      labelNames: ['kind'],
      registers,
    });
    this.backpressurePauses.inc({ kind: 'tcp-connection' }, 0);
    this.droppedConnections = new Counter({
      name: 'sockplane_dropped_connections_total',
      help: 'Incoming TCP connections dropped as they arrived, by reason (max-connections, quota, shutting-down)',
      labelNames: ['reason'],
      registers,
    });
    this.droppedDatagrams = new Counter({ name: 'sockplane_dropped_datagrams_total', help: 'Received datagrams dropped, by reason', labelNames: ['reason'], registers });
    this.requestDuration = new Histogram({
      name: 'sockplane_http_request_duration_seconds',
      help: 'HTTP request duration, by method, route pattern and status (long-polls included)',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60],
      registers,
    });
  }

  onModuleInit(): void {
    this.unsubscribe = this.sockets.events.subscribe((event) => this.count(event));
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.addHook('onResponse', (request, reply, done) => {
      this.requestDuration.observe(
        { method: request.method, route: request.routeOptions.url ?? UNMATCHED_ROUTE, status: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
      done();
    });
  }

  /** After the registry closed every socket at shutdown, so those closes are counted too. */
  onApplicationShutdown(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  /** The exposition in Prometheus text format. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private count(event: SocketEvent): void {
    switch (event.type) {
      case 'connection.data':
        addTo(this.bytesReceived, event.kind, numberOr(event.data.byteCount, event.payload?.length ?? 0));
        break;
      case 'udp.datagram':
        addTo(this.datagramsReceived, event.kind, 1);
        addTo(this.bytesReceived, event.kind, event.payload?.length ?? numberOr(event.data.byteCount, 0));
        break;
      case 'connection.accepted':
        this.accepts.inc();
        break;
      case 'connection.paused':
        this.backpressurePauses.inc({ kind: event.kind });
        break;
      case 'listener.dropped':
        this.droppedConnections.inc({ reason: stringOr(event.data.reason, 'unknown') });
        break;
      case 'udp.dropped':
        // The datagram log says which of its caps refused the datagram.
        this.droppedDatagrams.inc({ reason: stringOr(event.data.cause, 'unknown') });
        break;
    }
  }
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' ? value : fallback;
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}

function addTo(counts: Map<string, number>, kind: string, amount: number): void {
  counts.set(kind, (counts.get(kind) ?? 0) + amount);
}
