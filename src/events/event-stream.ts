import { Queue } from '../sockets/queue';
import { GapDto, PayloadOptions, toEventDto, toGapDto } from './dto/event.dto';
import { EventHistory, EventRecord } from './event-history';

/** Where a stream writes: an HTTP response in production, a fake in unit tests. */
export interface EventSink {
  /** Writes the text; false when the reader is behind and `onceDrain` must be awaited. */
  write(text: string): boolean;
  onceDrain(listener: () => void): void;
  /** Ends the stream; drops the connection instead when the reader is too far behind to take the end. */
  end(): void;
}

export interface EventStreamOptions {
  matches: (record: EventRecord) => boolean;
  /** Null: events go out without their bytes. */
  payload: PayloadOptions | null;
  /** Events held for this stream while its reader is behind. */
  queueLimit: number;
  history: EventHistory;
  /** Replay the held events after this id before the live ones; null: live events only. */
  resumeAfter: number | null;
}

export interface EventStreamStats {
  queued: number;
  queueLimit: number;
  /** Events written to the reader. */
  delivered: number;
  /** Events dropped because the queue was full (reported to the reader as `slow-consumer` gaps). */
  skipped: number;
  /** The last write was not taken at once: the stream waits for the reader before writing more. */
  waitingForDrain: boolean;
}

interface SkippedRun {
  firstId: number;
  lastId: number;
  skipped: number;
}

export const SSE_PING = ': ping\n\n';

/** Fills the queue's taken slots: a record that holds nothing. */
const TAKEN: EventRecord = { id: 0, event: { type: 'listener.closed', resourceId: '', kind: 'tcp-listener', labels: {}, owner: null, at: new Date(0), data: { reason: 'local', errno: null } }, payload: null, payloadLength: null };

/** One Server-Sent Events message. JSON.stringify escapes line breaks, so `data` stays on one line. */
export function sseMessage(event: string, data: object, id?: number): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * One subscriber: replays held events after its resume point, then delivers live ones in
 * order. It writes only while the reader keeps up; meanwhile live events wait in a bounded
 * queue, and once that is full further ones are skipped and reported as one `gap` when the
 * queue has drained. The runtime never waits for it.
 */
export class EventStream {
  /** Live events not written yet. */
  private readonly queue = new Queue<EventRecord>(TAKEN);
  /** The next held event to replay, up to `replayEnd`; events after it arrive live. */
  private replayNext: number;
  private readonly replayEnd: number;
  private openingGap: GapDto | null = null;
  private skipping: SkippedRun | null = null;
  private waitingForDrain = false;
  private wroteSinceHeartbeat = false;
  private closed = false;
  private delivered = 0;
  private skipped = 0;

  constructor(
    private readonly sink: EventSink,
    private readonly options: EventStreamOptions,
  ) {
    const { history, resumeAfter } = options;
    this.replayEnd = history.latestId;
    if (resumeAfter === null) {
      this.replayNext = history.latestId + 1;
    } else if (resumeAfter > history.latestId) {
      this.openingGap = toGapDto('unknown-id', null);
      this.replayNext = history.oldestId;
    } else {
      this.replayNext = resumeAfter + 1;
    }
  }

  get wantsPayload(): boolean {
    return this.options.payload !== null;
  }

  get stats(): EventStreamStats {
    return {
      queued: this.queued,
      queueLimit: this.options.queueLimit,
      delivered: this.delivered,
      skipped: this.skipped,
      waitingForDrain: this.waitingForDrain,
    };
  }

  /** Writes the replay (as far as the reader takes it). */
  start(): void {
    this.pump();
  }

  /**
   * A live event, with the copy the service made of its bytes if any stream wants them; a
   * stream that does not queues it without them, so a reader behind holds no payloads.
   */
  offer(record: EventRecord): void {
    if (this.closed || !this.options.matches(record)) return;
    if (this.skipping) {
      this.skipping.lastId = record.id;
      this.skipping.skipped++;
      this.skipped++;
      return;
    }
    if (this.queued >= this.options.queueLimit) {
      this.skipping = { firstId: record.id, lastId: record.id, skipped: 1 };
      this.skipped++;
      return;
    }
    this.queue.push(this.wantsPayload || record.payload === null ? record : { ...record, payload: null });
    this.pump();
  }

  /** Called at every heartbeat interval: a stream that wrote nothing since the last one gets a comment, so proxies keep it open. */
  heartbeat(): void {
    if (this.closed || this.waitingForDrain) return;
    if (!this.wroteSinceHeartbeat) this.send(SSE_PING);
    this.wroteSinceHeartbeat = false;
  }

  /** Ends the stream from the service's side (shutdown). */
  end(): void {
    if (this.closed) return;
    this.close();
    this.sink.end();
  }

  /** The reader went away: forget what was queued for it. */
  close(): void {
    this.closed = true;
    this.queue.clear();
    this.skipping = null;
  }

  private get queued(): number {
    return this.queue.length;
  }

  private pump(): void {
    while (!this.closed && !this.waitingForDrain) {
      const message = this.nextMessage();
      if (message === null) return;
      this.send(message);
    }
  }

  private send(text: string): void {
    this.wroteSinceHeartbeat = true;
    if (this.sink.write(text)) return;
    this.waitingForDrain = true;
    this.sink.onceDrain(() => {
      this.waitingForDrain = false;
      this.pump();
    });
  }

  /** The replay first, then the queue, then the gap for what was skipped while the queue was full. */
  private nextMessage(): string | null {
    if (this.openingGap) {
      const gap = this.openingGap;
      this.openingGap = null;
      return sseMessage('gap', gap);
    }
    const { history, matches } = this.options;
    while (this.replayNext <= this.replayEnd) {
      if (this.replayNext < history.oldestId) {
        const lastId = Math.min(history.oldestId - 1, this.replayEnd);
        const gap = toGapDto('history', { firstId: this.replayNext, lastId, skipped: lastId - this.replayNext + 1 });
        this.replayNext = lastId + 1;
        return sseMessage('gap', gap);
      }
      const record = history.get(this.replayNext++, this.wantsPayload);
      if (record && matches(record)) return this.eventMessage(record);
    }
    if (this.queued > 0) return this.eventMessage(this.queue.shift());
    if (this.skipping) {
      const gap = toGapDto('slow-consumer', this.skipping);
      this.skipping = null;
      return sseMessage('gap', gap);
    }
    return null;
  }

  private eventMessage(record: EventRecord): string {
    this.delivered++;
    return sseMessage(record.event.type, toEventDto(record, this.options.payload), record.id);
  }
}
