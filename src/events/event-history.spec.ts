import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SocketEvent } from '../sockets/socket-events';
import { EventHistory, PayloadRing } from './event-history';

const event = (payload?: Buffer, resourceId = 'tc_1'): SocketEvent => ({
  type: 'connection.data',
  resourceId,
  kind: 'tcp-connection',
  labels: { team: 'a' },
  owner: 'key-1',
  at: new Date(1_000),
  data: { from: 0, to: payload?.length ?? 0, byteCount: payload?.length ?? 0 },
  payload,
});

const payloadsOf = (history: EventHistory, ids: number[]): (string | null)[] => ids.map((id) => history.get(id, true)?.payload?.toString() ?? null);

describe('EventHistory', () => {
  it('numbers events from 1 and holds the last `capacity` of them', () => {
    const history = new EventHistory({ capacity: 3, payloadBudget: 0, payloadMaxBytes: 10 });
    expect({ latest: history.latestId, oldest: history.oldestId }).toEqual({ latest: 0, oldest: 1 });
    const ids = [1, 2, 3, 4, 5].map((n) => history.record(event(undefined, `tc_${n}`)));
    expect(ids).toEqual([1, 2, 3, 4, 5]);
    expect({ latest: history.latestId, oldest: history.oldestId, size: history.size }).toEqual({ latest: 5, oldest: 3, size: 3 });
    expect([2, 3, 5, 6].map((id) => history.get(id, true)?.event.resourceId)).toEqual([undefined, 'tc_3', 'tc_5', undefined]);
  });

  it('gives back every field of a held event', () => {
    const history = new EventHistory({ capacity: 2, payloadBudget: 100, payloadMaxBytes: 10 });
    history.record(event(Buffer.from('abc')));
    history.record({ ...event(), type: 'connection.closed', data: { reason: 'local', errno: null, bytesIn: 3, bytesOut: 0, framesIn: 0, framesOut: 0 } });
    expect([history.get(1, true), history.get(2, true)]).toEqual([
      {
        id: 1,
        event: { type: 'connection.data', resourceId: 'tc_1', kind: 'tcp-connection', labels: { team: 'a' }, owner: 'key-1', at: new Date(1_000), data: { from: 0, to: 3, byteCount: 3 } },
        payload: Buffer.from('abc'),
        payloadLength: 3,
      },
      expect.objectContaining({ id: 2, payload: null, payloadLength: null, event: expect.objectContaining({ type: 'connection.closed', data: { reason: 'local', errno: null, bytesIn: 3, bytesOut: 0, framesIn: 0, framesOut: 0 } }) }),
    ]);
  });

  it('with capacity 0 still numbers events but holds none', () => {
    const history = new EventHistory({ capacity: 0, payloadBudget: 1024, payloadMaxBytes: 10 });
    history.record(event(Buffer.from('abc')));
    expect({ latest: history.latestId, oldest: history.oldestId, get: history.get(1, true) }).toEqual({ latest: 1, oldest: 2, get: undefined });
  });

  it('keeps the first payloadMaxBytes of a payload and reports its whole length', () => {
    const history = new EventHistory({ capacity: 10, payloadBudget: 100, payloadMaxBytes: 4 });
    history.record(event(Buffer.from('abcdefgh')));
    expect(history.get(1, true)).toMatchObject({ payload: Buffer.from('abcd'), payloadLength: 8 });
  });

  it('drops the oldest payloads (not the events) beyond its payload budget', () => {
    const history = new EventHistory({ capacity: 10, payloadBudget: 10, payloadMaxBytes: 10 });
    ['aaaa', 'bbbb', 'cccc'].forEach((text) => history.record(event(Buffer.from(text))));
    expect(payloadsOf(history, [1, 2, 3])).toEqual([null, 'bbbb', 'cccc']);
    expect(history.get(1, true)).toMatchObject({ id: 1, payloadLength: 4 });
  });

  it('keeps a payload whole where it would wrap round the end of its budget', () => {
    const history = new EventHistory({ capacity: 10, payloadBudget: 10, payloadMaxBytes: 10 });
    ['abcdef', 'ghij', 'klm', 'nopqrs', 'tuvwxyz012'].forEach((text) => history.record(event(Buffer.from(text))));
    expect(payloadsOf(history, [1, 2, 3, 4, 5])).toEqual([null, null, null, null, 'tuvwxyz012']);
    const after = new EventHistory({ capacity: 10, payloadBudget: 10, payloadMaxBytes: 10 });
    ['abcdef', 'ghij', 'klm'].forEach((text) => after.record(event(Buffer.from(text))));
    expect(payloadsOf(after, [1, 2, 3])).toEqual([null, 'ghij', 'klm']);
  });

  it('holds no payload larger than its whole budget, and an empty payload as empty', () => {
    const history = new EventHistory({ capacity: 10, payloadBudget: 4, payloadMaxBytes: 10 });
    history.record(event(Buffer.from('abcdef')));
    history.record(event(Buffer.alloc(0)));
    expect([history.get(1, true), history.get(2, true)]).toMatchObject([
      { payload: null, payloadLength: 6 },
      { payload: Buffer.alloc(0), payloadLength: 0 },
    ]);
  });

  it('answers payloads as copies, which later events cannot overwrite', () => {
    const history = new EventHistory({ capacity: 10, payloadBudget: 4, payloadMaxBytes: 4 });
    history.record(event(Buffer.from('abcd')));
    const first = history.get(1, true)?.payload;
    history.record(event(Buffer.from('wxyz')));
    expect({ first: first?.toString(), held: history.get(1, true)?.payload ?? null }).toEqual({ first: 'abcd', held: null });
  });

  it('holds a copy of a small payload: bytes changed after recording do not change the history', () => {
    const history = new EventHistory({ capacity: 10, payloadBudget: 100, payloadMaxBytes: 100 });
    const received = Buffer.from('abc');
    history.record(event(received));
    received.write('xyz');
    expect(history.get(1, true)?.payload?.toString()).toBe('abc');
  });

  it('holds a large chunk that is its own allocation as it is, answering a copy of it', () => {
    const history = new EventHistory({ capacity: 10, payloadBudget: 1024 * 1024, payloadMaxBytes: 65_536 });
    const received = Buffer.allocUnsafeSlow(65_536).fill(7);
    history.record(event(received));
    const answered = history.get(1, true)?.payload;
    expect({ equal: answered?.equals(received), copy: answered?.buffer !== received.buffer }).toEqual({ equal: true, copy: true });
  });

  it('counts chunks held as they are in the same budget as copies: the oldest payloads go first either way', () => {
    const chunk = (fill: number): Buffer => Buffer.allocUnsafeSlow(20 * 1024).fill(fill);
    const history = new EventHistory({ capacity: 10, payloadBudget: 48 * 1024, payloadMaxBytes: 48 * 1024 });
    history.record(event(chunk(1)));
    history.record(event(Buffer.from('small')));
    history.record(event(chunk(2)));
    history.record(event(chunk(3)));
    const held = (): (number | null)[] => [1, 2, 3, 4, 5].map((id) => history.get(id, true)?.payload?.[0] ?? null);
    expect(held()).toEqual([null, 's'.charCodeAt(0), 2, 3, null]);
    history.record(event(chunk(4)));
    expect(held()).toEqual([null, null, null, 3, 4]);
  });

  it('lets go of a chunk held as it is once the budget drops it, or a newer event takes its slot', () => {
    const history = new EventHistory({ capacity: 2, payloadBudget: 1024 * 1024, payloadMaxBytes: 65_536 });
    // The private column: what the history still references is what it keeps from the collector.
    const asIs = (history as unknown as { payloadsAsIs: (Buffer | null)[] }).payloadsAsIs;
    [1, 2, 3].forEach((fill) => history.record(event(Buffer.allocUnsafeSlow(32 * 1024).fill(fill))));
    expect(asIs.map((chunk) => chunk?.[0] ?? null).sort()).toEqual([2, 3]);
    const small = new EventHistory({ capacity: 10, payloadBudget: 40 * 1024, payloadMaxBytes: 40 * 1024 });
    [1, 2].forEach((fill) => small.record(event(Buffer.allocUnsafeSlow(32 * 1024).fill(fill))));
    const smallAsIs = (small as unknown as { payloadsAsIs: (Buffer | null)[] }).payloadsAsIs;
    expect(smallAsIs.filter((chunk) => chunk !== null).map((chunk) => chunk?.[0])).toEqual([2]);
  });

  it('holds a datagram-sized event in little more than its data object, so held events cost the garbage collector little', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const events = 10_000;
    const history = new EventHistory({ capacity: events, payloadBudget: 8 * 1024 * 1024, payloadMaxBytes: 65_536 });
    // On-heap bytes, which a young-generation collection copies; the payload bytes go into the ring allocated up front.
    const held = (): number => {
      gc();
      return process.memoryUsage().heapUsed;
    };
    const before = held();
    // The strings and labels are the socket's own, as they are in the runtime: shared by its events.
    const socket = { resourceId: 'us_1', labels: { team: 'a' }, owner: 'key-1' };
    for (let i = 0; i < events; i++) {
      const data = { seq: i, remoteAddress: '127.0.0.1', remotePort: 5000, size: 512 };
      history.record({ type: 'udp.datagram', kind: 'udp-socket', ...socket, at: new Date(), data, payload: Buffer.alloc(512, i) });
    }
    // As objects (the record, the event, a Date, a Buffer) an event like this held about 530 bytes.
    expect((held() - before) / events).toBeLessThan(200);
    expect(history.get(events, true)?.payload).toEqual(Buffer.alloc(512, events - 1));
  });

  it('copies no payload for a reader that does not want one, and still reports its length', () => {
    const history = new EventHistory({ capacity: 2, payloadBudget: 100, payloadMaxBytes: 100 });
    history.record(event(Buffer.from('abc')));
    expect(history.get(1, false)).toMatchObject({ payload: null, payloadLength: 3 });
  });

  it('refuses limits under which its payload positions could wrap round while an event is held', () => {
    expect(() => new EventHistory({ capacity: 1e9, payloadBudget: 1024, payloadMaxBytes: 16 * 1024 * 1024 })).toThrow(RangeError);
  });
});

describe('PayloadRing', () => {
  it('gives the right bytes, or none, across many wraps of its positions', () => {
    // Positions wrap every 64 bytes here; the last four payloads of at most 6 bytes span at
    // most 48 of them (a payload and a skipped end each), so none can be taken for a newer one.
    const ring = new PayloadRing(16, 64);
    expect(ring.wrap).toBe(64);
    let seed = 7;
    const random = (below: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % below;
    };
    // The same ring with positions that never wrap: the bytes a payload occupies are intact
    // exactly while at most 16 have been written from its start on.
    let end = 0;
    const recent: { start: number; bytes: Buffer; unwrapped: number }[] = [];
    for (let i = 0; i < 5_000; i++) {
      const bytes = Buffer.alloc(random(7), i % 251);
      const offset = end % 16;
      const unwrapped = offset + bytes.length > 16 ? end + 16 - offset : end;
      end = unwrapped + bytes.length;
      recent.push({ start: ring.write(bytes), bytes, unwrapped });
      if (recent.length > 4) recent.shift();
      for (const held of recent) {
        const expected = end - held.unwrapped <= 16 ? held.bytes : null;
        expect(ring.read(held.start, held.bytes.length)).toEqual(expected);
      }
    }
  });
});

describe('EventHistory with ids a shared feed gives', () => {
  it('takes the given ids, and lets go of what it held when ids jump past the next one', () => {
    const history = new EventHistory({ capacity: 4, payloadBudget: 0, payloadMaxBytes: 10 });
    expect([101, 102].map((id, n) => history.record(event(undefined, `tc_${n}`), id))).toEqual([101, 102]);
    expect({ latest: history.latestId, oldest: history.oldestId, size: history.size }).toEqual({ latest: 102, oldest: 101, size: 2 });
    expect(history.record(event(undefined, 'tc_next'), 103)).toBe(103);
    expect(history.record(event(undefined, 'tc_far'), 200)).toBe(200);
    expect({ latest: history.latestId, oldest: history.oldestId, size: history.size }).toEqual({ latest: 200, oldest: 200, size: 1 });
    expect([103, 200].map((id) => history.get(id, false)?.event.resourceId)).toEqual([undefined, 'tc_far']);
  });
});
