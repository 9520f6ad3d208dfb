import { ByteLog } from './byte-log';
import { collectedAfterGc } from '../../test/support/garbage';

describe('ByteLog', () => {
  function logOf(...chunks: string[]): ByteLog {
    const log = new ByteLog();
    for (const chunk of chunks) log.append(Buffer.from(chunk));
    return log;
  }

  it('addresses bytes by absolute offset across chunk boundaries', () => {
    const log = logOf('hel', 'lo ', 'world');
    expect(log.endOffset).toBe(11);
    expect(log.read(0, 100).data.toString()).toBe('hello world');
    expect(log.read(2, 5)).toMatchObject({ from: 2, to: 7 });
    expect(log.read(2, 5).data.toString()).toBe('llo w');
    expect(log.read(11, 5).data.length).toBe(0);
  });

  it('takes the bytes from an offset back out, whole and partial chunks, and the next byte gets that offset', () => {
    const log = logOf('STA', 'RTTLS\r\n\x16\x03', '\x01hello');
    log.releaseUpTo(2);
    expect(log.takeFrom(10).toString('latin1')).toBe('\x16\x03\x01hello');
    expect({ end: log.endOffset, held: log.heldBytes, text: log.read(2, 100).data.toString() }).toEqual({ end: 10, held: 8, text: 'ARTTLS\r\n' });
    expect(log.takeFrom(10).length).toBe(0);
    log.append(Buffer.from('after'));
    expect(log.read(10, 100).data.toString()).toBe('after');
  });

  it('gives the same bytes as views of the received chunks, without copying them', () => {
    const received = [Buffer.from('hel'), Buffer.from('lo '), Buffer.from('world')];
    const log = new ByteLog();
    for (const chunk of received) log.append(chunk);
    const { from, to, chunks } = log.chunksOf(2, 7);
    expect({ from, to }).toEqual({ from: 2, to: 9 });
    expect(chunks.map(String)).toEqual(['l', 'lo ', 'wor']);
    chunks.forEach((chunk, i) => expect(chunk.buffer).toBe(received[i].buffer));
    expect(log.chunksOf(11, 5).chunks).toEqual([]);
  });

  it('gives bytes within one chunk as a view of it, and bytes across chunks as one copy', () => {
    const chunk = Buffer.from('GET a\nGET b\n');
    const log = new ByteLog();
    log.append(chunk);
    log.append(Buffer.from('GET c\n'));
    log.releaseUpTo(6);
    const within = log.bytes(6, 5);
    expect(within.toString()).toBe('GET b');
    expect(within.buffer).toBe(chunk.buffer);
    expect(within.byteOffset).toBe(chunk.byteOffset + 6);
    expect(log.bytes(10, 6).toString()).toBe('b\nGET ');
    expect(log.bytes(18, 5).length).toBe(0);
  });

  it('does not consume on read: the same read returns the same bytes', () => {
    const log = logOf('abc', 'def');
    expect(log.read(1, 4).data.toString()).toBe(log.read(1, 4).data.toString());
  });

  it('releases whole and partial chunks and keeps offsets absolute', () => {
    const log = logOf('abc', 'def', 'ghi');
    log.releaseUpTo(4);
    expect(log.oldestOffset).toBe(4);
    expect(log.heldBytes).toBe(5);
    expect(log.read(4, 100).data.toString()).toBe('efghi');
    log.releaseUpTo(2);
    expect(log.oldestOffset).toBe(4);
    log.releaseUpTo(100);
    expect(log.oldestOffset).toBe(9);
    expect(log.heldBytes).toBe(0);
    log.append(Buffer.from('jk'));
    expect(log.read(9, 10).data.toString()).toBe('jk');
  });

  it('finds a delimiter that spans chunks, within the limit only', () => {
    const log = logOf('line one\r', '\nline two\r\n');
    const crlf = Buffer.from('\r\n');
    expect(log.offsetAfter(crlf, 0, 100)).toBe(10);
    expect(log.offsetAfter(crlf, 10, 100)).toBe(20);
    expect(log.offsetAfter(crlf, 0, 9)).toBe(-1);
    expect(log.offsetAfter(Buffer.from('x'), 0, 100)).toBe(-1);
  });

  it('resumes a delimiter search where the last one stopped, across the boundary it straddles', () => {
    const log = logOf('no line yet\r');
    const crlf = Buffer.from('\r\n');
    expect(log.offsetAfter(crlf, 0, 100)).toBe(-1);
    log.append(Buffer.from('\nnext'));
    expect(log.offsetAfter(crlf, 0, 100, 12)).toBe(13);
    // Bytes before searchedTo (minus what a delimiter could straddle) are not searched again.
    const twice = logOf('a\nb');
    expect(twice.offsetAfter(Buffer.from('\n'), 0, 100, 3)).toBe(-1);
  });

  it('counts skipped bytes (echo and discard modes) without holding them', () => {
    const log = logOf('ab');
    log.skip(5);
    expect(log).toMatchObject({ oldestOffset: 7, endOffset: 7, heldBytes: 0 });
  });

  it('stays correct over many chunks released one by one (compaction)', () => {
    const log = new ByteLog();
    for (let i = 0; i < 5000; i++) log.append(Buffer.from([i % 256]));
    for (let offset = 1; offset <= 4990; offset++) log.releaseUpTo(offset);
    expect(log.oldestOffset).toBe(4990);
    expect([...log.read(4990, 10).data]).toEqual(Array.from({ length: 10 }, (_, k) => (4990 + k) % 256));
  });

  it('lets go of released chunks at once, long before the lazy compaction', async () => {
    const log = new ByteLog();
    // Each chunk its own allocation, as a socket read delivers it; only weak references stay here.
    const refs = Array.from({ length: 10 }, () => {
      const chunk = Buffer.alloc(1024, 0x61);
      log.append(chunk);
      return new WeakRef(chunk);
    });
    log.releaseUpTo(5 * 1024);
    expect(await collectedAfterGc(refs)).toEqual([true, true, true, true, true, false, false, false, false, false]);
    expect(log.read(5 * 1024, 10 * 1024).data.length).toBe(5 * 1024);
  });
});
