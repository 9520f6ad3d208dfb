import { compileEventFilter, isEventTypePattern } from './event-filter';
import { EventRecord } from './event-history';

const record = (event: Partial<EventRecord['event']>): EventRecord => ({
  id: 1,
  event: { type: 'connection.data', resourceId: 'tc_1', kind: 'tcp-connection', labels: { team: 'a', env: 'ci' }, owner: null, at: new Date(0), data: { from: 0, to: 1, byteCount: 1 }, ...event },
  payload: null,
  payloadLength: null,
});

describe('compileEventFilter', () => {
  it('passes everything without criteria', () => {
    expect(compileEventFilter({})(record({}))).toBe(true);
  });

  it.each([
    [{ resourceIds: ['tc_2', 'tc_1'] }, true],
    [{ resourceIds: ['tc_2'] }, false],
    [{ kinds: ['tcp-listener', 'tcp-connection'] as const }, true],
    [{ kinds: ['udp-socket'] as const }, false],
    [{ types: ['connection.data'] }, true],
    [{ types: ['connection.*'] }, true],
    [{ types: ['listener.*', 'connection.closed'] }, false],
    [{ labels: { team: 'a', env: 'ci' } }, true],
    [{ labels: { team: 'a', env: 'prod' } }, false],
    [{ resourceIds: ['tc_1'], types: ['udp.*'] }, false],
  ])('%j → %s', (filter, expected) => {
    expect(compileEventFilter(filter)(record({}))).toBe(expected);
  });
});

describe('isEventTypePattern', () => {
  it.each([
    ['connection.data', true],
    ['udp.datagram', true],
    ['udp.*', true],
    ['connection.', false],
    ['tcp.*', false],
    ['*', false],
    ['connection.bogus', false],
    [7, false],
  ])('%j → %s', (value, expected) => {
    expect(isEventTypePattern(value)).toBe(expected);
  });
});
