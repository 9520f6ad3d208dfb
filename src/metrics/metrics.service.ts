import { Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { AppConfig } from '../config/app-config';
import { RULE_TRIGGERS, RuleTrigger } from '../sockets/rules/rule-spec';
import { ConnectOutcome, SOCKET_KINDS, SocketEventIn, SocketKind } from '../sockets/socket-events';
import { Resource, SocketRegistry } from '../sockets/socket-registry';

/** Route label of requests that matched no route, so unknown URLs cannot create series. */
const UNMATCHED_ROUTE = 'unmatched';

/** The events metrics count (a frame is counted from the connection's counters, not from its event). */
const COUNTED_EVENTS = [
  'connection.data',
  'udp.datagram',
  'connection.closed',
  'udp.closed',
  'connection.accepted',
  'connection.paused',
  'listener.dropped',
  'tls.established',
  'tls.failed',
  'udp.dropped',
  'rule.matched',
  'fault.applied',
  'fault.triggered',
  'fault.expired',
] as const;

/**
 * Prometheus metrics in a registry of this app's own (not prom-client's global one), so several
 * apps in one process keep apart. Labels are bounded: kinds, states, outcomes, route patterns;
 * never a socket id or a raw URL.
 *
 * Counters of things that happen come from the registry's event bus: what a socket sent is
 * read from it while it is open, and from its `*.closed` event's final counters once it closed
 * (the registry may forget it then). Gauges are read from the socket registry at scrape time.
 */
@Injectable()
export class MetricsService implements OnModuleInit, OnApplicationShutdown {
  readonly registry = new Registry();
  private unsubscribe: (() => void)[] = [];

  /**
   * Received bytes and datagrams by kind, added up per event and handed to their counters at
   * scrape time: a labelled `inc` hashes its labels, and these move with every received chunk
   * and datagram.
   */
  private readonly bytesReceived = new Map<string, number>([['tcp-connection', 0]]);
  private readonly datagramsReceived = new Map<string, number>();
  /** What the sockets that closed had sent, by kind, from their final counters. */
  private readonly closedSent = new Map<string, SentCounters>();
  /** Frames the connections that closed had received and sent, from their final counters. */
  private readonly closedFrames = { framesIn: 0, framesOut: 0 };
  private readonly connectOutcomes = new Map<ConnectOutcome, number>();
  /**
   * Rule matches by socket kind, then trigger, handed to their counter at scrape time: one may
   * come with every frame. Every pair has its count from the start (0: none yet, not exposed),
   * so a match adds one without a look-up that may miss.
   */
  private readonly ruleMatches = ruleMatchCounts();
  private readonly accepts: Counter;
  private readonly backpressurePauses: Counter<'kind'>;
  private readonly droppedConnections: Counter<'reason'>;
  private readonly droppedDatagrams: Counter<'reason'>;
  private readonly tlsHandshakes: Counter<'outcome'>;
  private readonly faultEvents: Counter<'fault' | 'type' | 'event'>;
  private readonly requestDuration: Histogram<'method' | 'route' | 'status'>;

  constructor(
    private readonly sockets: SocketRegistry,
    private readonly config: AppConfig,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    const registers = [this.registry];
    const sentTotals = (): Map<string, SentCounters> => this.sentTotals();
    const connectOutcomes = this.connectOutcomes;
    const frameTotals = (): { framesIn: number; framesOut: number } => this.frameTotals();
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
        for (const [kind, sent] of sentTotals()) if (sent.bytesOut > 0) this.inc({ kind }, sent.bytesOut);
      },
    });
    new Counter({
      name: 'sockplane_sent_datagrams_total',
      help: 'Datagrams sent, by kind',
      labelNames: ['kind'],
      registers,
      collect() {
        this.reset();
        for (const [kind, sent] of sentTotals()) if (sent.datagramsOut > 0) this.inc({ kind }, sent.datagramsOut);
      },
    });
    const frames = (name: string, help: string, pick: (totals: { framesIn: number; framesOut: number }) => number): void => {
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(pick(frameTotals()));
        },
      });
    };
    frames('sockplane_received_frames_total', 'Frames the framing of TCP connections found in received bytes', (totals) => totals.framesIn);
    frames('sockplane_sent_frames_total', 'Frames sent by framed sends on TCP connections', (totals) => totals.framesOut);
    new Counter({
      name: 'sockplane_tcp_connects_total',
      help: 'Outbound TCP connect attempts, by outcome: "connected" or the error code',
      labelNames: ['outcome'],
      registers,
      collect() {
        this.reset();
        this.inc({ outcome: 'connected' }, 0);
        for (const [outcome, count] of connectOutcomes) this.inc({ outcome }, count);
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
    this.tlsHandshakes = new Counter({ name: 'sockplane_tls_handshakes_total', help: 'TLS handshakes of TCP connections, by outcome (established, failed)', labelNames: ['outcome'], registers });
    for (const outcome of ['established', 'failed']) this.tlsHandshakes.inc({ outcome }, 0);
    this.faultEvents = new Counter({
      name: 'sockplane_fault_events_total',
      help: 'What each fault did: put on a connection (applied), its trigger fired (triggered), its time ran out (expired)',
      labelNames: ['fault', 'type', 'event'],
      registers,
    });
    const ruleMatches = this.ruleMatches;
    new Counter({
      name: 'sockplane_rule_matches_total',
      help: 'Reply rules that matched, by the kind of socket and what they matched on (frame, connect, idle, peer-end, datagram)',
      labelNames: ['kind', 'trigger'],
      registers,
      collect() {
        this.reset();
        for (const kind of SOCKET_KINDS) {
          for (const trigger of RULE_TRIGGERS) if (ruleMatches[kind][trigger] > 0) this.inc({ kind, trigger }, ruleMatches[kind][trigger]);
        }
      },
    });
    this.requestDuration = new Histogram({
      name: 'sockplane_http_request_duration_seconds',
      help: 'HTTP request duration, by method, route pattern and status (long-polls included)',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60],
      registers,
    });
  }

  onModuleInit(): void {
    this.unsubscribe = [
      this.sockets.events.subscribe((event) => this.count(event), COUNTED_EVENTS),
      this.sockets.events.subscribeConnectAttempts((outcome) => this.connectOutcomes.set(outcome, (this.connectOutcomes.get(outcome) ?? 0) + 1)),
    ];
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
    for (const unsubscribe of this.unsubscribe) unsubscribe();
    this.unsubscribe = [];
  }

  /** The exposition in Prometheus text format. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * What every socket sent since start-up, by kind: the closed ones from their final counters,
   * the open ones from their counters now. Never decreases, so it is exposed as counters.
   */
  private sentTotals(): Map<string, SentCounters> {
    const totals = new Map<string, SentCounters>();
    for (const [kind, sent] of this.closedSent) addSent(totals, kind, sent);
    for (const socket of this.sockets.all()) if (socket.state !== 'closed') addSent(totals, socket.kind, sentCounters(socket));
    return totals;
  }

  /** Frames received and sent since start-up: the closed connections' final counters and the open ones' counters now. */
  private frameTotals(): { framesIn: number; framesOut: number } {
    const totals = { ...this.closedFrames };
    for (const socket of this.sockets.all()) {
      if (socket.kind !== 'tcp-connection' || socket.state === 'closed') continue;
      const { framesIn, framesOut } = socket.framingStatus;
      totals.framesIn += framesIn;
      totals.framesOut += framesOut;
    }
    return totals;
  }

  private count(event: SocketEventIn<typeof COUNTED_EVENTS>): void {
    switch (event.type) {
      case 'connection.data':
        addTo(this.bytesReceived, event.kind, event.data.byteCount);
        break;
      case 'udp.datagram':
        addTo(this.datagramsReceived, event.kind, 1);
        addTo(this.bytesReceived, event.kind, event.data.size);
        break;
      case 'connection.closed':
        addSent(this.closedSent, event.kind, { bytesOut: event.data.bytesOut, datagramsOut: 0 });
        this.closedFrames.framesIn += event.data.framesIn;
        this.closedFrames.framesOut += event.data.framesOut;
        break;
      case 'udp.closed':
        addSent(this.closedSent, event.kind, { bytesOut: event.data.bytesOut, datagramsOut: event.data.datagramsOut });
        break;
      case 'connection.accepted':
        this.accepts.inc();
        break;
      case 'connection.paused':
        this.backpressurePauses.inc({ kind: event.kind });
        break;
      case 'listener.dropped':
        this.droppedConnections.inc({ reason: event.data.reason });
        break;
      case 'tls.established':
        this.tlsHandshakes.inc({ outcome: 'established' });
        break;
      case 'tls.failed':
        this.tlsHandshakes.inc({ outcome: 'failed' });
        break;
      case 'udp.dropped':
        // The datagram log says which of its caps refused the datagram.
        this.droppedDatagrams.inc({ reason: event.data.cause });
        break;
      case 'rule.matched':
        this.ruleMatches[event.kind][event.data.trigger] += 1;
        break;
      case 'fault.applied':
      case 'fault.triggered':
      case 'fault.expired':
        this.faultEvents.inc({ fault: event.data.faultId, type: event.data.type, event: event.type.slice('fault.'.length) });
        break;
    }
  }
}

/** What a socket has sent; kinds without a counter report 0. */
interface SentCounters {
  bytesOut: number;
  datagramsOut: number;
}

function sentCounters(resource: Resource): SentCounters {
  switch (resource.kind) {
    case 'tcp-listener':
      return { bytesOut: 0, datagramsOut: 0 };
    case 'tcp-connection':
      return { bytesOut: resource.bytesOut, datagramsOut: 0 };
    case 'udp-socket':
      return { bytesOut: resource.bytesOut, datagramsOut: resource.datagramsOut };
  }
}

function addSent(totals: Map<string, SentCounters>, kind: string, sent: SentCounters): void {
  const total = totals.get(kind) ?? { bytesOut: 0, datagramsOut: 0 };
  totals.set(kind, { bytesOut: total.bytesOut + sent.bytesOut, datagramsOut: total.datagramsOut + sent.datagramsOut });
}

/** Rule matches by socket kind and trigger, every pair at 0. */
function ruleMatchCounts(): Record<SocketKind, Record<RuleTrigger, number>> {
  const byTrigger = (): Record<RuleTrigger, number> => ({ connect: 0, frame: 0, idle: 0, 'peer-end': 0, datagram: 0 });
  return { 'tcp-listener': byTrigger(), 'tcp-connection': byTrigger(), 'udp-socket': byTrigger(), 'cluster-node': byTrigger() };
}

function addTo(counts: Map<string, number>, kind: string, amount: number): void {
  counts.set(kind, (counts.get(kind) ?? 0) + amount);
}
