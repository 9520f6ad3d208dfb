import { ConnectionPair, ConnectionPairs } from '../../test/support/connection-pair';
import { once } from 'node:events';
import { Socket } from 'node:net';
import { SocketError } from './socket-error';
import { TcpConnection } from './tcp-connection';

describe('TcpConnection', () => {
  const pairs = new ConnectionPairs();
  afterEach(() => pairs.closeAll());
  const pair = (...args: Parameters<ConnectionPairs['open']>): Promise<ConnectionPair> => pairs.open(...args);

  const read = (connection: TcpConnection, minBytes: number) =>
    connection.read({ maxBytes: 1 << 20, minBytes, waitMs: 5000 }).then((r) => ({ ...r, text: Buffer.concat(r.chunks).toString() }));

  async function received(socket: Socket, byteCount: number): Promise<string> {
    let text = '';
    while (text.length < byteCount) text += String((await once(socket, 'data'))[0]);
    return text;
  }

  it('keeps received bytes by offset, reads without consuming, and knows its addresses', async () => {
    const { connection, peer } = await pair();
    expect(connection.local).toMatchObject({ address: '127.0.0.1', family: 'IPv4' });
    expect(connection.remote).toEqual({ address: '127.0.0.1', port: peer.localPort, family: 'IPv4' });
    peer.write('hello world');
    expect(await read(connection, 11)).toMatchObject({ from: 0, nextOffset: 11, text: 'hello world', eof: false });
    expect((await read(connection, 1)).text).toBe('hello world');
    connection.releaseUpTo(6);
    expect(connection.buffer).toEqual({ oldestOffset: 6, endOffset: 11, heldBytes: 5 });
    expect(connection.bytesIn).toBe(11);
  });

  it('sends bytes in order and counts them once the kernel has them', async () => {
    const { connection, peer } = await pair();
    const got = received(peer, 10);
    await Promise.all([connection.send([Buffer.from('ab'), Buffer.from('cde')], false), connection.send([Buffer.from('fghij')], false)]);
    expect(await got).toBe('abcdefghij');
    expect(connection.bytesOut).toBe(10);
  });

  it('echoes in echo mode and closes when the peer ends, as the tutorial server does', async () => {
    const { connection, peer, events } = await pair({ mode: 'echo' });
    const got = received(peer, 4);
    peer.write('ping');
    expect(await got).toBe('ping');
    peer.end();
    await once(peer, 'end');
    await connection.close('graceful');
    expect(connection.closed).toMatchObject({ reason: 'peer-end', errno: null });
    expect(events.at(-1)).toMatchObject({ type: 'connection.closed', data: { reason: 'peer-end', errno: null, bytesIn: 4, bytesOut: 4 } });
  });

  it('moves through its states: the peer ends first, then the service ends, then it closes', async () => {
    const setup = await pair();
    const { connection, peer } = setup;
    peer.end('bye');
    expect(await read(connection, 100)).toMatchObject({ text: 'bye', eof: true });
    expect([connection.state, connection.inputEnded]).toEqual(['peer-ended', true]);
    const ended = once(peer, 'end');
    await connection.send([Buffer.from('late reply')], true);
    expect(await received(peer, 10)).toBe('late reply');
    await ended;
    await setup.whenClosed;
    expect([connection.state, connection.closed?.reason, setup.closedCalls]).toEqual(['closed', 'peer-end', 1]);
  });

  it('refuses to send once it ended its side, with the state in the error', async () => {
    const { connection } = await pair();
    await connection.send([], true);
    expect(connection.state).toBe('local-ended');
    const refused = await connection.send([Buffer.from('x')], false).catch((err: SocketError) => err);
    expect(refused).toMatchObject({ code: 'SOCKET_CLOSED', details: { state: 'local-ended' } });
  });

  it('a graceful close the peer answers with FIN reports local', async () => {
    const setup = await pair();
    const { connection, peer } = setup;
    peer.resume();
    peer.on('end', () => peer.end());
    await connection.close('graceful');
    expect([connection.state, connection.closed?.reason, setup.closedCalls]).toEqual(['closed', 'local', 1]);
  });

  it('a graceful close whose peer never sends FIN resets after the linger and says linger-expired', async () => {
    const setup = await pair({ closeLingerMs: 100 });
    const { connection, peer, events } = setup;
    const finReceived = once(peer, 'end');
    peer.resume();
    const started = Date.now();
    await connection.close('graceful');
    await finReceived;
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(connection.closed).toMatchObject({ reason: 'linger-expired', errno: null });
    expect(events.at(-1)).toMatchObject({ type: 'connection.closed', data: { reason: 'linger-expired', errno: null } });
    expect(setup.closedCalls).toBe(1);
    // The peer learns of the reset when it next writes.
    peer.write('too late');
    expect((await once(peer, 'error'))[0]).toMatchObject({ code: expect.stringMatching(/^(ECONNRESET|EPIPE)$/) });
  });

  it('a reset close aborts at once and reports local; closing again is a no-op', async () => {
    const { connection, peer } = await pair();
    const peerError = once(peer, 'error');
    await connection.close('reset');
    await connection.close('graceful');
    expect(connection.closed?.reason).toBe('local');
    expect((await peerError)[0]).toMatchObject({ code: 'ECONNRESET' });
  });

  it('a peer reset reports peer-reset with its errno and ends waiting reads', async () => {
    const { connection, peer } = await pair();
    const waiting = read(connection, 100);
    peer.resetAndDestroy();
    expect(await waiting).toMatchObject({ eof: true, text: '' });
    expect(connection.closed).toMatchObject({ reason: 'peer-reset', errno: 'ECONNRESET' });
  });

  it('an idle timeout closes it with reason timeout', async () => {
    const { connection } = await pair({ idleTimeoutMs: 50 });
    expect(await read(connection, 1)).toMatchObject({ eof: true });
    expect(connection.closed).toMatchObject({ reason: 'timeout' });
  });

  it('pauses reading at its cap, so the peer is pushed back, and resumes after a release', async () => {
    const { connection, peer, events } = await pair({ maxBufferedBytes: 1000 });
    const total = 200_000;
    peer.write(Buffer.alloc(total, 'x'));
    await read(connection, 1000);
    expect(connection.paused).toBe(true);
    // It stopped reading with most of the bytes still on their way.
    expect(connection.buffer.endOffset).toBeLessThan(total);
    while (connection.buffer.endOffset < total) {
      connection.releaseUpTo(connection.buffer.endOffset);
      await read(connection, 1);
    }
    const flow = events.filter((e) => e.type === 'connection.paused' || e.type === 'connection.resumed').map((e) => e.type);
    expect(flow.slice(0, 2)).toEqual(['connection.paused', 'connection.resumed']);
  });

  it('stops reading while a live consumer holds it, until every holder let go, and loses nothing', async () => {
    const { connection, peer } = await pair({ maxBufferedBytes: 64 * 1024 * 1024 });
    const slowReader = {};
    const otherReader = {};
    connection.hold(slowReader);
    connection.hold(otherReader);
    const total = 16 * 1024 * 1024;
    peer.write(Buffer.alloc(total, 'y'));
    // Nothing is read: the kernel's buffers fill and the peer's own send queue backs up.
    while (peer.writableLength === 0) await new Promise((resolve) => setImmediate(resolve));
    expect(connection.bytesIn).toBe(0);
    connection.unhold(slowReader);
    connection.unhold(slowReader);
    await new Promise((resolve) => setImmediate(resolve));
    expect(connection.bytesIn).toBe(0);
    connection.unhold(otherReader);
    const all = await connection.read({ maxBytes: total, minBytes: total, waitMs: 5000 });
    expect(all.nextOffset).toBe(total);
  });

  it('a hold let go while the buffer cap still stops reading keeps it stopped until a release', async () => {
    const { connection, peer } = await pair({ maxBufferedBytes: 1000 });
    const holder = {};
    peer.write(Buffer.alloc(200_000, 'z'));
    await read(connection, 1000);
    expect(connection.paused).toBe(true);
    connection.hold(holder);
    connection.releaseUpTo(connection.buffer.endOffset);
    const afterRelease = connection.buffer.endOffset;
    await new Promise((resolve) => setImmediate(resolve));
    expect(connection.buffer.endOffset).toBe(afterRelease);
    connection.unhold(holder);
    await read(connection, afterRelease - connection.buffer.oldestOffset + 1);
    expect(connection.buffer.endOffset).toBeGreaterThan(afterRelease);
  });

  it('works the same over IPv6 loopback', async () => {
    const { connection, peer } = await pair({}, '::1');
    expect(connection.remote).toMatchObject({ address: '::1', family: 'IPv6' });
    peer.write('six');
    expect((await read(connection, 3)).text).toBe('six');
  });

  describe('stages', () => {
    it('a stage plugged in carries received bytes on their way to the byte log', async () => {
      const { connection, peer } = await pair();
      connection.stages.add({ name: 'upper', received: (chunk, next) => next(Buffer.from(chunk.toString().toUpperCase())) });
      peer.write('shout');
      expect((await read(connection, 5)).text).toBe('SHOUT');
      expect(connection.bytesIn).toBe(5);
    });

    it('a stage plugged in carries sent bytes, and a send answers once the transport has what it passed on', async () => {
      const { connection, peer } = await pair();
      let counted = 0;
      connection.stages.add({
        name: 'count',
        sent: (chunk, next) => {
          counted += chunk.length;
          next(chunk);
        },
      });
      const got = received(peer, 8);
      await connection.send([Buffer.from('one'), Buffer.from('two')], false);
      await connection.send([Buffer.from('xy')], false);
      expect(await got).toBe('onetwoxy');
      expect([counted, connection.bytesOut]).toEqual([8, 8]);
      connection.stages.remove('count');
      expect(connection.stages.isEmpty).toBe(true);
    });

    it('echoed bytes pass through the send side too', async () => {
      const { connection, peer } = await pair({ mode: 'echo' });
      connection.stages.add({ name: 'reverse', sent: (chunk, next) => next(Buffer.from([...chunk.toString()].reverse().join(''))) });
      const got = received(peer, 4);
      peer.write('abcd');
      expect(await got).toBe('dcba');
    });
  });
});
