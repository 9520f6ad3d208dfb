import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { Caller } from '../auth/caller';
import { ApiProblem } from '../common/api-problem';
import { parseLabelSelector } from '../common/validation';
import { EventSettings } from '../config/app-config';
import { SocketEvent } from '../sockets/socket-events';
import { SocketRegistry } from '../sockets/socket-registry';
import { StreamEventsQueryDto } from './dto/stream-events-query.dto';
import { compileEventFilter } from './event-filter';
import { EventHistory, EventRecord } from './event-history';
import { EventSink, EventStream, EventStreamStats } from './event-stream';

/** Where an admitted stream writes: an event sink the service opens once nothing is left to refuse (`SseReply`). */
export interface OpenableEventSink extends EventSink {
  /** Starts the stream; `onGone` runs when its reader goes away. False when there is nothing to stream (HEAD). */
  open(onGone: () => void): boolean;
}

/**
 * Numbers every runtime event, keeps the recent ones for resumption, and fans them out to the
 * open event streams. It listens from start-up, not only while a stream is open, so a client
 * that reconnects finds what happened while it was away.
 */
@Injectable()
export class EventsService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(EventsService.name);
  private readonly history: EventHistory;
  private readonly streams = new Set<EventStream>();
  private unsubscribe: () => void;
  private readonly heartbeat: NodeJS.Timeout;
  private closing = false;

  constructor(
    registry: SocketRegistry,
    private readonly config: EventSettings,
  ) {
    this.history = new EventHistory({ capacity: config.eventHistory, payloadBudget: config.eventHistoryPayloadBytes, payloadMaxBytes: config.eventPayloadMaxBytes });
    this.unsubscribe = registry.events.subscribe((event) => this.publish(event));
    this.heartbeat = setInterval(() => this.streams.forEach((stream) => stream.heartbeat()), config.eventHeartbeatMs);
    this.heartbeat.unref();
  }

  /**
   * Streams the caller's own events into `sink`. Everything that can be refused is checked
   * before the sink is opened, so a refusal is still an ordinary problem+json answer.
   */
  openStream(query: StreamEventsQueryDto, lastEventIdHeader: string | undefined, caller: Caller, sink: OpenableEventSink): void {
    if (this.closing) throw new ApiProblem('SHUTTING_DOWN', 'the service is shutting down');
    if (this.streams.size >= this.config.maxEventStreams) {
      throw new ApiProblem('QUOTA_EXCEEDED', `${this.streams.size} event streams are open, the limit`, { limit: 'maxEventStreams', max: this.config.maxEventStreams });
    }
    const resumeAfter = parseLastEventId(lastEventIdHeader) ?? query.lastEventId ?? null;
    const payload = query.payload
      ? { encoding: query.payload, maxBytes: Math.min(query.payloadMaxBytes ?? this.config.eventPayloadMaxBytes, this.config.eventPayloadMaxBytes) }
      : null;
    const matches = compileEventFilter({ owner: caller.scope, resourceIds: query.resourceId, kinds: query.kind, types: query.type, labels: parseLabelSelector(query.label) });
    const stream = new EventStream(sink, { matches, payload, queueLimit: this.config.eventQueue, history: this.history, resumeAfter });
    const opened = sink.open(() => {
      this.streams.delete(stream);
      stream.close();
    });
    if (!opened) return;
    this.streams.add(stream);
    stream.start();
  }

  /**
   * From now on the events come from `feed` instead of this node's sockets, with the ids it
   * gives (consecutive, shared by every reader of the feed: a cluster's stream of every node's
   * events), so a `Last-Event-ID` means the same event wherever a stream resumes. Answers the
   * function the feed publishes through, and the last id this node recorded (where the feed's
   * numbering must go on from).
   */
  takeFeed(): { publish: (event: SocketEvent, id: number) => void; latestId: () => number } {
    this.unsubscribe();
    this.unsubscribe = () => undefined;
    return { publish: (event, id) => this.publish(event, id), latestId: () => this.history.latestId };
  }

  /** Event streams open now (for `GET /v1/limits`). */
  get openStreams(): number {
    return this.streams.size;
  }

  /** Per open stream: how far behind its reader is and what it lost (for operations and tests). */
  stats(): EventStreamStats[] {
    return [...this.streams].map((stream) => stream.stats);
  }

  /** Before the HTTP server closes: end every stream, or the server would wait for them forever. */
  beforeApplicationShutdown(): void {
    this.closing = true;
    this.unsubscribe();
    clearInterval(this.heartbeat);
    for (const stream of [...this.streams]) stream.end();
  }

  private publish(event: SocketEvent, given?: number): void {
    if (given !== undefined && given <= this.history.latestId) return;
    const id = this.history.record(event, given);
    if (this.streams.size === 0) return;
    const { payload } = event;
    // Without the payload, which only `keptPayload` decides how to hold. Built as a literal: a
    // rest spread per event was a measurable share of a UDP receive.
    const rest: Omit<SocketEvent, 'payload'> = {
      type: event.type,
      resourceId: event.resourceId,
      kind: event.kind,
      labels: event.labels,
      owner: event.owner,
      at: event.at,
      data: event.data,
    };
    const copy = payload !== undefined && this.someStreamWantsPayload() ? this.keptPayload(payload) : null;
    const record: EventRecord = { id, event: rest, payload: copy, payloadLength: payload?.length ?? null };
    for (const stream of this.streams) {
      // This runs inside the sockets' own event handlers: a failing stream is dropped, never
      // allowed to throw into them.
      try {
        stream.offer(record);
      } catch (err) {
        this.logger.error(`event stream failed and was closed: ${(err as Error).stack ?? String(err)}`);
        stream.end();
      }
    }
  }

  /**
   * What the streams that want payloads queue of one: at most the per-event cap, and never a
   * view into a larger allocation (Node's shared buffer pool, or a chunk the byte log has cut),
   * which would pin more memory than the queued events' bytes. A received chunk that is its
   * own whole allocation and fits the cap — as TCP reads and datagrams arrive from Node — is
   * kept as it is: nothing writes to received bytes, and a new buffer for every chunk doubled
   * what a bulk transfer gave the garbage collector. (The history copies into its own block,
   * allocated once.)
   */
  private keptPayload(payload: Buffer): Buffer {
    if (payload.length <= this.config.eventPayloadMaxBytes && payload.byteOffset === 0 && payload.buffer.byteLength === payload.length) return payload;
    const copy = Buffer.allocUnsafeSlow(Math.min(payload.length, this.config.eventPayloadMaxBytes));
    payload.copy(copy, 0, 0, copy.length);
    return copy;
  }

  private someStreamWantsPayload(): boolean {
    for (const stream of this.streams) if (stream.wantsPayload) return true;
    return false;
  }
}

/** `Last-Event-ID` as the EventSource sent it: an event id this service gave out. */
function parseLastEventId(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (!/^\d{1,15}$/.test(value)) {
    const message = 'Last-Event-ID must be the id of an event (a whole number)';
    throw new ApiProblem('VALIDATION_FAILED', message, {}, [{ field: 'Last-Event-ID', message }]);
  }
  return Number(value);
}
