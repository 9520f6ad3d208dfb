import { Redis } from 'ioredis';
import { SocketEvent, SocketEventType, SocketKind } from '../sockets/socket-events';
import { Queue } from '../sockets/queue';

/** The one stream every node appends its events to, and the counter that numbers them. */
const STREAM_KEY = 'sockplane:events';
const COUNTER_KEY = 'sockplane:events:last';

/**
 * Numbers an event and appends it, atomically, so the ids are consecutive across the cluster
 * (entry id `0-<n>`). The counter never goes below the caller's last seen id: a Redis that
 * restarted empty goes on from where the nodes were, not from 1.
 */
const APPEND_SCRIPT = `
local n = redis.call('INCR', KEYS[2])
local floor = tonumber(ARGV[1])
if n <= floor then
  n = floor + 1
  redis.call('SET', KEYS[2], n)
end
if ARGV[4] == '' then
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '0-' .. n, 'e', ARGV[3])
else
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '0-' .. n, 'e', ARGV[3], 'p', ARGV[4])
end
return n
`;

/** What a taken slot of the pending queue holds. */
const NO_EVENT = { meta: '', payload: '' } as const;

/** The command `defineCommand` adds (ioredis keeps the script loaded and calls it by its hash). */
interface AppendCommand {
  appendEvent(stream: string, counter: string, floor: number, max: number, meta: string, payload: Buffer | ''): Promise<number>;
}

/** An event as the stream holds it: everything but its payload, which travels as bytes of its own. */
interface StoredEvent {
  type: SocketEventType;
  resourceId: string;
  kind: SocketKind;
  labels: Record<string, string>;
  owner: string | null;
  at: number;
  data: SocketEvent['data'];
}

/** Where the feed delivers: the node's event service, and the last id it recorded. */
export interface FeedTarget {
  publish: (event: SocketEvent, id: number) => void;
  latestId: () => number;
}

export interface EventFeedOptions {
  /** Entries the stream keeps (approximately: Redis trims whole blocks). */
  streamMax: number;
  /** Events held while Redis is away, appended when it is back; beyond it the oldest go. */
  pendingMax: number;
  /** Pause between reads while Redis is away. */
  retryMs: number;
}

/**
 * The cluster's shared event stream (a capped Redis Stream): each node appends its own
 * sockets' events, and every node reads the whole stream into its event service, so an event
 * stream on any node carries every node's events under the same ids. While Redis is away the
 * node holds its events and appends them when it is back.
 */
export class EventFeed {
  private readonly writer: Redis & AppendCommand;
  private readonly reader: Redis;
  private readonly pending = new Queue<{ meta: string; payload: Buffer | '' }>(NO_EVENT);
  private lastRead = '0-0';
  private stopped = false;
  private reading: Promise<void> = Promise.resolve();

  constructor(
    redisUrl: string,
    private readonly target: FeedTarget,
    private readonly options: EventFeedOptions,
  ) {
    const common = { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => options.retryMs };
    this.writer = new Redis(redisUrl, common) as Redis & AppendCommand;
    this.writer.defineCommand('appendEvent', { numberOfKeys: 2, lua: APPEND_SCRIPT });
    this.reader = new Redis(redisUrl, common);
    // Being away is a state here (events wait in `pending`), not an error to crash on.
    this.writer.on('error', () => undefined);
    this.reader.on('error', () => undefined);
    this.writer.on('ready', () => this.flush());
  }

  async start(): Promise<void> {
    await Promise.all([this.writer.connect().catch(() => undefined), this.reader.connect().catch(() => undefined)]);
    this.lastRead = `0-${this.target.latestId()}`;
    this.reading = this.readLoop();
  }

  /** Stops reading; the events appended so far are written before the connection closes. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.reader.disconnect();
    await this.reading;
    if (this.writer.status === 'ready') await this.writer.quit().catch(() => undefined);
    else this.writer.disconnect();
  }

  /** Appends one of this node's events (or holds it while Redis is away). */
  append(event: SocketEvent): void {
    const stored: StoredEvent = {
      type: event.type,
      resourceId: event.resourceId,
      kind: event.kind,
      labels: event.labels,
      owner: event.owner,
      at: event.at.getTime(),
      data: event.data,
    };
    this.pending.push({ meta: JSON.stringify(stored), payload: event.payload ?? '' });
    while (this.pending.length > this.options.pendingMax) this.pending.shift();
    this.flush();
  }

  private flush(): void {
    if (this.writer.status !== 'ready') return;
    while (this.pending.length > 0) {
      const next = this.pending.shift();
      // Sent in order on one connection; one that fails with Redis gone is lost with it, as the
      // events of a Redis restarted empty are.
      this.writer.appendEvent(STREAM_KEY, COUNTER_KEY, this.target.latestId(), this.options.streamMax, next.meta, next.payload).catch(() => undefined);
    }
  }

  private async readLoop(): Promise<void> {
    while (!this.stopped) {
      try {
        const answer = await this.reader.xreadBuffer('COUNT', 1000, 'BLOCK', 1000, 'STREAMS', STREAM_KEY, this.lastRead);
        for (const [, entries] of answer ?? []) for (const [id, fields] of entries) this.deliver(id.toString(), fields);
      } catch {
        if (!this.stopped) await new Promise((resolve) => setTimeout(resolve, this.options.retryMs));
      }
    }
  }

  private deliver(entryId: string, fields: Buffer[]): void {
    this.lastRead = entryId;
    let meta: StoredEvent | undefined;
    let payload: Buffer | undefined;
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const name = fields[i].toString();
      if (name === 'e') meta = JSON.parse(fields[i + 1].toString()) as StoredEvent;
      else if (name === 'p') payload = fields[i + 1];
    }
    if (meta === undefined) return;
    const event = { ...meta, at: new Date(meta.at), payload } as SocketEvent;
    this.target.publish(event, Number(entryId.split('-')[1]));
  }
}
