import { DatagramLog } from './datagram-log';
import { Endpoint } from './socket-types';
import { collectedAfterGc } from '../../test/support/garbage';

const SENDER: Endpoint = { address: '127.0.0.1', port: 65433, family: 'IPv4' };
const AT = new Date('2026-11-25T16:30:00.000Z');

function logWith(maxDatagrams = 100, maxBytes = 1024): DatagramLog {
  return new DatagramLog({ maxDatagrams, maxBytes });
}

function texts(log: DatagramLog, from: number, max = 100, maxBytes = 1024): string[] {
  return log.read(from, max, maxBytes).map((d) => d.data.toString());
}

describe('DatagramLog', () => {
  it('numbers kept datagrams from 0 and reads them without consuming', () => {
    const log = logWith();
    for (const text of ['a', 'bb', 'ccc']) log.append(Buffer.from(text), SENDER, AT);
    expect(log.read(0, 10, 1024).map((d) => d.seq)).toEqual([0, 1, 2]);
    expect(texts(log, 1)).toEqual(['bb', 'ccc']);
    expect(texts(log, 1)).toEqual(['bb', 'ccc']);
    expect(log.read(3, 10, 1024)).toEqual([]);
    expect(log.read(0, 1, 1024)[0]).toEqual({ seq: 0, data: Buffer.from('a'), sender: SENDER, receivedAt: AT });
    expect({ oldest: log.oldestSeq, end: log.endSeq, held: log.heldDatagrams, bytes: log.heldBytes }).toEqual({ oldest: 0, end: 3, held: 3, bytes: 6 });
  });

  it('stops a read at max datagrams and before maxBytes, but always returns one', () => {
    const log = logWith();
    for (const text of ['aaaa', 'bbbb', 'cccc']) log.append(Buffer.from(text), SENDER, AT);
    expect(texts(log, 0, 2)).toEqual(['aaaa', 'bbbb']);
    expect(texts(log, 0, 10, 9)).toEqual(['aaaa', 'bbbb']);
    expect(texts(log, 0, 10, 1)).toEqual(['aaaa']);
  });

  it('releases below a seq, clamped to what is held', () => {
    const log = logWith();
    for (const text of ['a', 'bb', 'ccc']) log.append(Buffer.from(text), SENDER, AT);
    log.releaseUpTo(2);
    expect({ oldest: log.oldestSeq, held: log.heldDatagrams, bytes: log.heldBytes }).toEqual({ oldest: 2, held: 1, bytes: 3 });
    expect(texts(log, 2)).toEqual(['ccc']);
    log.releaseUpTo(1);
    expect(log.oldestSeq).toBe(2);
    log.releaseUpTo(99);
    expect({ oldest: log.oldestSeq, end: log.endSeq, held: log.heldDatagrams, bytes: log.heldBytes }).toEqual({ oldest: 3, end: 3, held: 0, bytes: 0 });
    log.append(Buffer.from('d'), SENDER, AT);
    expect(log.read(3, 10, 1024).map((d) => d.seq)).toEqual([3]);
  });

  it('drops and counts what arrives at the datagram cap; releasing makes room again', () => {
    const log = logWith(2);
    expect(log.append(Buffer.from('a'), SENDER, AT).kept).toBe(true);
    expect(log.append(Buffer.from('b'), SENDER, AT).kept).toBe(true);
    expect(log.append(Buffer.from('c'), SENDER, AT)).toEqual({ kept: false, cause: 'maxDatagrams' });
    expect({ dropped: log.dropped, end: log.endSeq }).toEqual({ dropped: 1, end: 2 });
    log.releaseUpTo(1);
    const outcome = log.append(Buffer.from('d'), SENDER, AT);
    expect(outcome.kept && outcome.datagram.seq).toBe(2);
    expect(texts(log, 1)).toEqual(['b', 'd']);
  });

  it('drops a datagram that would take the held bytes past the byte cap', () => {
    const log = logWith(100, 5);
    log.append(Buffer.from('abcd'), SENDER, AT);
    expect(log.append(Buffer.from('ef'), SENDER, AT)).toEqual({ kept: false, cause: 'maxBufferedBytes' });
    expect(log.append(Buffer.from('e'), SENDER, AT).kept).toBe(true);
    expect({ dropped: log.dropped, bytes: log.heldBytes }).toEqual({ dropped: 1, bytes: 5 });
  });

  it('numbers skipped datagrams without holding them', () => {
    const log = logWith();
    log.append(Buffer.from('a'), SENDER, AT);
    expect(log.skip()).toBe(1);
    expect(log.skip()).toBe(2);
    expect({ oldest: log.oldestSeq, end: log.endSeq, held: log.heldDatagrams, bytes: log.heldBytes }).toEqual({ oldest: 3, end: 3, held: 0, bytes: 0 });
  });

  it('keeps reading right after compacting a long released prefix', () => {
    const log = logWith(5000, 1024 * 1024);
    for (let i = 0; i < 3000; i++) log.append(Buffer.from(String(i)), SENDER, AT);
    log.releaseUpTo(2000);
    expect(texts(log, 2000, 2)).toEqual(['2000', '2001']);
    log.releaseUpTo(2999);
    expect(texts(log, 2999)).toEqual(['2999']);
    expect(log.heldDatagrams).toBe(1);
  });

  it('lets go of released datagrams at once, long before the lazy compaction', async () => {
    const log = logWith();
    const refs = Array.from({ length: 6 }, (_, i) => {
      const data = Buffer.alloc(16, i);
      log.append(data, SENDER, AT);
      return new WeakRef(data);
    });
    log.releaseUpTo(3);
    expect(await collectedAfterGc(refs)).toEqual([true, true, true, false, false, false]);
    expect(log.read(3, 10, 1024).map((d) => d.data[0])).toEqual([3, 4, 5]);
  });
});
