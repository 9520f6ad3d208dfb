import { SocketEvent } from '../sockets/socket-events';
import { EventHistory } from './event-history';

const event = (resourceId = 'tc_1'): Omit<SocketEvent, 'payload'> => ({
  type: 'connection.data',
  resourceId,
  kind: 'tcp-connection',
  labels: {},
  owner: null,
  at: new Date(0),
  data: {},
});

describe('EventHistory', () => {
  it('numbers events from 1 and holds the last `capacity` of them', () => {
    const history = new EventHistory(3, 0);
    expect({ latest: history.latestId, oldest: history.oldestId }).toEqual({ latest: 0, oldest: 1 });
    const ids = [1, 2, 3, 4, 5].map(() => history.record(event(), null, null).id);
    expect(ids).toEqual([1, 2, 3, 4, 5]);
    expect({ latest: history.latestId, oldest: history.oldestId, size: history.size }).toEqual({ latest: 5, oldest: 3, size: 3 });
    expect([2, 3, 5, 6].map((id) => history.get(id)?.id)).toEqual([undefined, 3, 5, undefined]);
  });

  it('with capacity 0 still numbers events but holds none', () => {
    const history = new EventHistory(0, 1024);
    history.record(event(), Buffer.from('abc'), 3);
    expect({ latest: history.latestId, oldest: history.oldestId, get: history.get(1), bytes: history.heldPayloadBytes }).toEqual({
      latest: 1,
      oldest: 2,
      get: undefined,
      bytes: 0,
    });
  });

  it('drops the oldest payloads (not the events) beyond its payload budget', () => {
    const history = new EventHistory(10, 10);
    const records = [0, 1, 2].map(() => history.record(event(), Buffer.alloc(4), 4));
    expect(records.map((r) => r.payload?.length ?? null)).toEqual([null, 4, 4]);
    expect(history.heldPayloadBytes).toBe(8);
    expect(history.get(1)).toBe(records[0]);
  });

  it('frees the payload bytes of evicted events', () => {
    const history = new EventHistory(2, 100);
    for (let i = 0; i < 5; i++) history.record(event(), Buffer.alloc(10), 10);
    expect(history.heldPayloadBytes).toBe(20);
  });
});
