import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SocketEvent } from '../sockets/socket-events';
import { PayloadOptions } from './dto/event.dto';
import { EventHistory, EventRecord } from './event-history';
import { EventSink, EventStream, SSE_PING } from './event-stream';

/** A sink whose reader can be made to stop (`full`) and catch up (`drain`). */
class FakeSink implements EventSink {
  readonly written: string[] = [];
  full = false;
  ended = false;
  private drainListeners: (() => void)[] = [];

  write(text: string): boolean {
    this.written.push(text);
    return !this.full;
  }

  onceDrain(listener: () => void): void {
    this.drainListeners.push(listener);
  }

  end(): void {
    this.ended = true;
  }

  drain(): void {
    this.full = false;
    this.drainListeners.splice(0).forEach((listener) => listener());
  }

  /** `id event` per message, `gap firstId-lastId/skipped` per gap, `ping` per heartbeat. */
  get summary(): string[] {
    return this.written.map((text) => {
      if (text === SSE_PING) return 'ping';
      const id = /^id: (\d+)$/m.exec(text)?.[1];
      const event = /^event: (.*)$/m.exec(text)?.[1];
      const data = JSON.parse(/^data: (.*)$/m.exec(text)?.[1] ?? 'null') as Record<string, unknown>;
      return event === 'gap' ? `gap ${data.reason} ${data.firstId}-${data.lastId}/${data.skipped}` : `${id} ${event}`;
    });
  }

  json(index: number): Record<string, unknown> {
    return JSON.parse(/^data: (.*)$/m.exec(this.written[index])?.[1] ?? 'null') as Record<string, unknown>;
  }
}

type TestType = 'connection.data' | 'connection.closed';

const event = (type: TestType = 'connection.data', payload?: Buffer): SocketEvent => {
  const about = { resourceId: 'tc_1', kind: 'tcp-connection', labels: {}, owner: null, at: new Date(0), payload } as const;
  return type === 'connection.data'
    ? { ...about, type, data: { from: 0, to: 4, byteCount: 4 } }
    : { ...about, type, data: { reason: 'local', errno: null, bytesIn: 4, bytesOut: 0, framesIn: 0, framesOut: 0 } };
};

/** Records the event and answers it as the service offers it to live streams. */
function live(history: EventHistory, type?: TestType, payload: Buffer | null = null): EventRecord {
  const id = history.record(event(type, payload ?? undefined));
  return { id, event: event(type), payload, payloadLength: payload?.length ?? null };
}

function setup(options: { capacity?: number; queueLimit?: number; resumeAfter?: number | null; payload?: PayloadOptions; onlyData?: boolean; payloadBudget?: number } = {}) {
  const history = new EventHistory({ capacity: options.capacity ?? 100, payloadBudget: options.payloadBudget ?? 1024, payloadMaxBytes: 1024 });
  const sink = new FakeSink();
  const stream = new EventStream(sink, {
    matches: (r: EventRecord) => !options.onlyData || r.event.type === 'connection.data',
    payload: options.payload ?? null,
    queueLimit: options.queueLimit ?? 10,
    history,
    resumeAfter: options.resumeAfter ?? null,
  });
  const publish = (type?: TestType, payload: Buffer | null = null): EventRecord => {
    const record = live(history, type, payload);
    stream.offer(record);
    return record;
  };
  return { history, sink, stream, publish };
}

describe('EventStream', () => {
  it('writes matching live events as they come, with their id and type', () => {
    const { sink, stream, publish } = setup({ onlyData: true });
    stream.start();
    publish();
    publish('connection.closed');
    publish();
    expect(sink.summary).toEqual(['1 connection.data', '3 connection.data']);
    expect(stream.stats).toMatchObject({ delivered: 2, queued: 0, skipped: 0 });
  });

  it('queues while the reader is behind, skips beyond the queue, and reports the skipped run once the queue drained', () => {
    const { sink, stream, publish } = setup({ queueLimit: 2 });
    stream.start();
    sink.full = true;
    publish();
    for (let i = 0; i < 5; i++) publish();
    expect(stream.stats).toEqual({ queued: 2, queueLimit: 2, delivered: 1, skipped: 3, waitingForDrain: true });
    sink.drain();
    publish();
    expect(sink.summary).toEqual(['1 connection.data', '2 connection.data', '3 connection.data', 'gap slow-consumer 4-6/3', '7 connection.data']);
    expect(stream.stats).toMatchObject({ queued: 0, waitingForDrain: false });
  });

  it('replays the held events after the resume point, then goes on live', () => {
    const { history, sink } = setup();
    [1, 2, 3].forEach(() => history.record(event()));
    const stream = new EventStream(sink, { matches: () => true, payload: null, queueLimit: 10, history, resumeAfter: 1 });
    stream.start();
    stream.offer(live(history));
    expect(sink.summary).toEqual(['2 connection.data', '3 connection.data', '4 connection.data']);
  });

  it('reports a history gap when the replay falls behind what the history holds', () => {
    const { history, sink } = setup({ capacity: 3 });
    [1, 2, 3].forEach(() => history.record(event()));
    const stream = new EventStream(sink, { matches: () => true, payload: null, queueLimit: 10, history, resumeAfter: 0 });
    sink.full = true;
    stream.start();
    // Events 4 and 5 push 1 and 2 out while the reader is stuck after 1.
    [4, 5].forEach(() => stream.offer(live(history)));
    sink.drain();
    expect(sink.summary).toEqual(['1 connection.data', 'gap history 2-2/1', '3 connection.data', '4 connection.data', '5 connection.data']);
  });

  it('starts with an unknown-id gap and the whole history when asked to resume after an id it never gave', () => {
    const { history, sink } = setup({ capacity: 2 });
    [1, 2, 3].forEach(() => history.record(event()));
    new EventStream(sink, { matches: () => true, payload: null, queueLimit: 10, history, resumeAfter: 50 }).start();
    expect(sink.summary).toEqual(['gap unknown-id null-null/null', '2 connection.data', '3 connection.data']);
  });

  it('writes payloads in the asked encoding, cut at maxBytes, and says when they are truncated', () => {
    const { sink, stream, publish } = setup({ payload: { encoding: 'hex', maxBytes: 2 } });
    stream.start();
    publish('connection.data', Buffer.from('abc'));
    publish('connection.data', Buffer.from('a'));
    publish('connection.closed');
    expect([0, 1, 2].map((i) => sink.json(i))).toEqual([
      expect.objectContaining({ payload: '6162', payloadEncoding: 'hex', payloadTruncated: true }),
      expect.objectContaining({ payload: '61', payloadEncoding: 'hex', payloadTruncated: false }),
      expect.not.objectContaining({ payload: expect.anything() }),
    ]);
  });

  it('replays an event whose payload the history dropped as an empty, truncated payload', () => {
    const { history, sink } = setup({ payloadBudget: 3 });
    history.record(event('connection.data', Buffer.from('abc')));
    history.record(event('connection.data', Buffer.from('de')));
    new EventStream(sink, { matches: () => true, payload: { encoding: 'utf8', maxBytes: 10 }, queueLimit: 10, history, resumeAfter: 0 }).start();
    expect([sink.json(0), sink.json(1)]).toEqual([
      expect.objectContaining({ payload: '', payloadTruncated: true }),
      expect.objectContaining({ payload: 'de', payloadTruncated: false }),
    ]);
  });

  it('pings only after an interval without writes, and not while the reader is behind', () => {
    const { sink, stream, publish } = setup();
    stream.start();
    publish();
    stream.heartbeat();
    stream.heartbeat();
    stream.heartbeat();
    sink.full = true;
    publish();
    stream.heartbeat();
    stream.heartbeat();
    expect(sink.summary).toEqual(['1 connection.data', 'ping', 'ping', '2 connection.data']);
  });

  it('ignores events once ended, and ends its sink', () => {
    const { sink, stream, publish } = setup();
    stream.start();
    stream.end();
    publish();
    expect({ written: sink.written, ended: sink.ended }).toEqual({ written: [], ended: true });
  });

  it('holds no payload bytes for a reader behind that did not ask for them, when the live events carry them for other streams', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const settled = async (): Promise<number> => {
      // Buffers' memory is given back after the collection, off the main thread.
      gc();
      await new Promise((resolve) => setImmediate(resolve));
      gc();
      return process.memoryUsage().arrayBuffers;
    };
    const { history, sink, stream } = setup({ queueLimit: 1000, capacity: 0 });
    stream.start();
    sink.full = true;
    const before = await settled();
    for (let i = 0; i < 1000; i++) stream.offer(live(history, 'connection.data', Buffer.alloc(64 * 1024)));
    expect(stream.stats).toMatchObject({ queued: 999 });
    expect((await settled()) - before).toBeLessThan(8 * 1024 * 1024);
  });
});
