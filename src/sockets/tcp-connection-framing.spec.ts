import { ConnectionPair, ConnectionPairs } from '../../test/support/connection-pair';
import { once } from 'node:events';
import { FRAMING_PRESETS, FramingSetting, LengthFraming } from './framing/framing';
import { SocketError } from './socket-error';
import { TcpConnection } from './tcp-connection';

const LINES: FramingSetting = { framing: FRAMING_PRESETS.lines, preset: 'lines', onError: 'record' };
const U32: FramingSetting = { framing: FRAMING_PRESETS.u32be, preset: 'u32be', onError: 'record' };

describe('TcpConnection framing', () => {
  const pairs = new ConnectionPairs();
  afterEach(() => pairs.closeAll());
  const pair = (...args: Parameters<ConnectionPairs['open']>): Promise<ConnectionPair> => pairs.open(...args);

  const frames = (connection: TcpConnection, minFrames = 1, from?: number) =>
    connection.readFrames({ from, max: 100, minFrames, maxBytes: 1 << 20, waitMs: 5000 }).then((r) => ({ ...r, texts: r.frames.map((f) => Buffer.concat(f.data).toString()) }));

  it('long-polls for frames, each a byte range of the byte log, and only whole ones', async () => {
    const { connection, peer, events } = await pair({ framing: LINES });
    peer.write('a\r');
    peer.write('\nbb\nc');
    const read = await frames(connection, 2);
    expect(read).toMatchObject({ from: 0, nextIndex: 2, texts: ['a', 'bb'], oldestIndex: 0, endIndex: 2, eof: false, error: null });
    expect(read.frames.map((f) => [f.frame.from, f.frame.to])).toEqual([
      [0, 3],
      [3, 6],
    ]);
    const bytes = await connection.read({ from: 3, maxBytes: 3, minBytes: 3, waitMs: 0 });
    expect(Buffer.concat(bytes.chunks).toString()).toBe('bb\n');
    expect(events.filter((e) => e.type === 'connection.frame').map((e) => [e.data, e.payload?.toString()])).toEqual([
      [{ index: 0, from: 0, to: 3, size: 1 }, 'a'],
      [{ index: 1, from: 3, to: 6, size: 2 }, 'bb'],
    ]);
    peer.end('cc\n');
    expect(await frames(connection, 1, 2)).toMatchObject({ texts: ['ccc'], nextIndex: 3 });
    expect((await frames(connection, 1, 3)).eof).toBe(true);
  });

  it('releases the bytes of released frames, and drops the frames of released bytes', async () => {
    const { connection, peer } = await pair({ framing: LINES });
    peer.write('one\ntwo\nthree\nfo');
    await frames(connection, 3);
    connection.releaseFramesUpTo(1);
    expect(connection.buffer.oldestOffset).toBe(4);
    expect(connection.framingStatus).toMatchObject({ oldestIndex: 1, endIndex: 3, heldFrames: 2, framesIn: 3 });
    connection.releaseUpTo(9);
    expect(connection.framingStatus).toMatchObject({ oldestIndex: 3, heldFrames: 0 });
    await expect(frames(connection, 1, 1)).rejects.toMatchObject({ code: 'OFFSET_RELEASED' });
    expect(() => connection.releaseFramesUpTo(4)).toThrow(SocketError);
    peer.write('ur\n');
    expect((await frames(connection, 1, 3)).texts).toEqual(['four']);
  });

  it('frames the held bytes when framing is set on an open connection, and changes framing between frames', async () => {
    const { connection, peer } = await pair();
    peer.write('x\ny\nz');
    await connection.read({ maxBytes: 100, minBytes: 5, waitMs: 5000 });
    expect(await frames(connection)).toMatchObject({ texts: [], eof: true });
    connection.setFraming(LINES);
    expect((await frames(connection, 2)).texts).toEqual(['x', 'y']);
    connection.setFraming({ framing: { type: 'fixed', frameBytes: 2 }, preset: null, onError: 'record' });
    peer.write('zzz');
    expect((await frames(connection, 2, 2)).texts).toEqual(['zz', 'zz']);
  });

  it('records a framing error and keeps the bytes, or closes with reason framing-error when told to', async () => {
    const gib = Buffer.alloc(4);
    gib.writeUInt32BE(2 ** 30);
    const recorded = await pair({ framing: U32 });
    recorded.peer.write(Buffer.concat([Buffer.from([0, 0, 0, 1, 0x61]), gib, Buffer.alloc(1000)]));
    const read = await frames(recorded.connection, 2);
    expect(read).toMatchObject({ texts: ['a'], eof: true, error: { offset: 5, message: expect.stringContaining('maxFrameBytes') } });
    await recorded.connection.read({ maxBytes: 2000, minBytes: 1009, waitMs: 5000 });
    expect(recorded.connection.state).toBe('open');
    expect(recorded.connection.stages.names).toEqual(['head']);
    expect(recorded.events.find((e) => e.type === 'connection.framing-error')?.data).toMatchObject({ offset: 5, action: 'record' });

    const closing = await pair({ framing: { ...U32, onError: 'close' } });
    closing.peer.on('error', () => undefined);
    closing.peer.write(gib);
    await closing.whenClosed;
    expect(closing.connection.closed).toMatchObject({ reason: 'framing-error', message: expect.stringContaining('maxFrameBytes') });
  });

  it('sends frames with their length prefix or delimiter, all in one write', async () => {
    const framing: LengthFraming = { ...FRAMING_PRESETS.u32be, lengthFieldLength: 2, byteOrder: 'little', initialBytesToStrip: 2 };
    const { connection, peer } = await pair({ framing: { framing, preset: null, onError: 'record' } });
    const got = once(peer, 'data');
    await connection.sendFrames([Buffer.from('hi'), Buffer.from('')], false);
    expect(((await got) as [Buffer])[0]).toEqual(Buffer.from([2, 0, 0x68, 0x69, 0, 0]));
    expect(connection.framingStatus.framesOut).toBe(2);
    await expect(connection.sendFrames([Buffer.alloc(70_000)], false)).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' });
  });

  it('refuses framed sends without a framing', async () => {
    const { connection } = await pair();
    await expect(connection.sendFrames([Buffer.from('x')], false)).rejects.toMatchObject({ code: 'NO_FRAMING' });
  });

  it('counts the frames of an echoing connection without holding them', async () => {
    const { connection, peer, events } = await pair({ mode: 'echo', framing: LINES });
    const echoed = once(peer, 'data');
    peer.write('p\nq\n');
    await echoed;
    expect(connection.framingStatus).toMatchObject({ framesIn: 2, heldFrames: 0, oldestIndex: 2, endIndex: 2 });
    expect(events.filter((e) => e.type === 'connection.frame').map((e) => e.payload)).toEqual([undefined, undefined]);
  });

  it('keeps the byte path bare without framing', async () => {
    const { connection } = await pair();
    expect(connection.stages.isEmpty).toBe(true);
    connection.setFraming(LINES);
    expect(connection.stages.names).toEqual(['head', 'framing']);
    connection.setFraming({ framing: null, preset: null, onError: 'record' });
    expect(connection.stages.isEmpty).toBe(true);
  });
});
