import { once } from 'node:events';
import { Socket, connect } from 'node:net';
import { TcpPeer, eventually } from '../support/peers';
import { rawBytes, startTestApp, TestApp } from '../support/test-app';

const KiB = 1024;
const MiB = 1024 * KiB;

/** Bytes whose value depends on their offset, so a dropped or reordered chunk shows. */
function pattern(from: number, length: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) bytes[i] = (from + i) % 251;
  return bytes;
}

describe('hostile peers', () => {
  let t: TestApp;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    t = await startTestApp({
      SOCKPLANE_MAX_BUFFERED_BYTES: String(4 * MiB),
      SOCKPLANE_MAX_PENDING_WRITE_BYTES: String(1 * MiB),
      SOCKPLANE_MAX_READ_BYTES: String(16 * MiB),
    });
  });
  afterAll(async () => {
    sockets.forEach((s) => s.destroy());
    await t.close();
  });

  async function listen(body: Record<string, unknown> = {}): Promise<{ id: string; port: number }> {
    const res = await t.http.post('/v1/tcp/listeners').send(body).expect(201);
    return { id: res.body.id, port: res.body.local.port };
  }

  async function acceptedFrom(listenerId: string): Promise<string> {
    const res = await t.http.get(`/v1/tcp/listeners/${listenerId}/connections`).query({ waitMs: 5000 }).expect(200);
    return res.body.items[0].id;
  }

  it('one that connects and sends nothing is closed by the server-wide idle timeout', async () => {
    const idle = await startTestApp({ SOCKPLANE_IDLE_TIMEOUT_MS: '200' });
    try {
      const listener = (await idle.http.post('/v1/tcp/listeners').send({}).expect(201)).body;
      expect(listener.options.idleTimeoutMs).toBe(200);
      const peer = await TcpPeer.connect(listener.local.port);
      const id = (await idle.http.get(`/v1/tcp/listeners/${listener.id}/connections`).query({ waitMs: 5000 }).expect(200)).body.items[0].id;
      await peer.whenClosed();
      const closed = (await idle.http.get(`/v1/tcp/connections/${id}`).expect(200)).body;
      expect(closed).toMatchObject({ state: 'closed', closed: { reason: 'timeout' } });
      // A connection that asks for its own timeout keeps it.
      const own = (await idle.http.post('/v1/tcp/listeners').send({ idleTimeoutMs: 0 }).expect(201)).body;
      expect(own.options.idleTimeoutMs).toBe(0);
    } finally {
      await idle.close();
    }
  });

  it('one that resets mid-stream: the bytes it sent stay readable and the reason is peer-reset', async () => {
    const listener = await listen();
    const peer = await TcpPeer.connect(listener.port);
    const id = await acceptedFrom(listener.id);
    await peer.write('half a messa');
    await t.http.get(`/v1/tcp/connections/${id}/buffer`).query({ minBytes: 12, waitMs: 5000 }).expect(200);
    peer.socket.resetAndDestroy();
    await eventually(async () => expect((await t.http.get(`/v1/tcp/connections/${id}`).expect(200)).body.closed).toMatchObject({ reason: 'peer-reset' }));
    const read = await t.http.get(`/v1/tcp/connections/${id}/buffer`).expect(200);
    expect({ data: read.body.data, eof: read.body.eof }).toEqual({ data: 'half a messa', eof: true });
    const send = await t.http.post(`/v1/tcp/connections/${id}/send`).send({ data: 'too late' });
    expect({ status: send.status, code: send.body.code }).toEqual({ status: 409, code: 'SOCKET_CLOSED' });
  });

  it('one that sends 100 MiB nobody reads: memory stays at the cap, TCP pushes back, and draining loses nothing', async () => {
    const listener = await listen();
    const flood = 100 * MiB;
    const peer = connect(listener.port, '127.0.0.1');
    sockets.push(peer);
    await once(peer, 'connect');
    const id = await acceptedFrom(listener.id);
    // Handed to the peer's socket at once: what the kernel does not take waits in its write queue.
    for (let from = 0; from < flood; from += 4 * MiB) peer.write(pattern(from, 4 * MiB));
    peer.end();

    const paused = await eventually(async () => {
      const state = (await t.http.get(`/v1/tcp/connections/${id}`).expect(200)).body;
      expect(state.buffer.paused).toBe(true);
      return state;
    });
    expect(paused.buffer.heldBytes).toBeLessThanOrEqual(4 * MiB + 64 * KiB);
    // Back-pressure holds: nothing more is read while paused, and the peer still has most of it queued.
    const again = (await t.http.get(`/v1/tcp/connections/${id}`).expect(200)).body;
    expect(again.counters.bytesIn).toBe(paused.counters.bytesIn);
    expect(peer.writableLength).toBeGreaterThan(flood / 2);

    let offset = 0;
    let maxHeld = 0;
    for (;;) {
      const res = await t.http
        .get(`/v1/tcp/connections/${id}/buffer`)
        .query({ from: offset, maxBytes: 16 * MiB, waitMs: 5000 })
        .set('accept', 'application/octet-stream')
        .buffer(true)
        .parse(rawBytes)
        .expect(200);
      const data = res.body as Buffer;
      if (!data.equals(pattern(offset, data.length))) throw new Error(`bytes at offset ${offset} are not the ones sent`);
      offset = Number(res.headers['sockplane-next-offset']);
      const released = (await t.http.delete(`/v1/tcp/connections/${id}/buffer`).query({ upTo: offset }).expect(200)).body;
      maxHeld = Math.max(maxHeld, released.heldBytes);
      if (res.headers['sockplane-eof'] === 'true') break;
    }
    expect(offset).toBe(flood);
    expect(maxHeld).toBeLessThanOrEqual(4 * MiB + 64 * KiB);
    await t.http.delete(`/v1/tcp/connections/${id}`).expect(200);
  });

  it('one that never reads what the API sends: sends past the pending limit answer 429 WRITE_BUFFER_FULL, then flow again', async () => {
    const listener = await listen();
    const peer = await TcpPeer.connect(listener.port);
    sockets.push(peer.socket);
    peer.socket.pause();
    const id = await acceptedFrom(listener.id);
    const chunk = Buffer.alloc(256 * KiB, 0x7a);
    const send = (): Promise<{ status: number; code?: string }> =>
      t.http
        .post(`/v1/tcp/connections/${id}/send`)
        .set('content-type', 'application/octet-stream')
        .send(chunk)
        .then((res) => ({ status: res.status, code: res.body.code }));
    // Sends answer once the kernel took the bytes, so against a peer that does not read they
    // wait: go on once each one answered or its bytes are queued, until one is refused.
    const pending = async (): Promise<number> => (await t.http.get(`/v1/tcp/connections/${id}`).expect(200)).body.counters.pendingWriteBytes;
    const inFlight: Promise<{ status: number; code?: string }>[] = [];
    let refused: { status: number; code?: string } | null = null;
    while (!refused) {
      const before = await pending();
      const attempt = send();
      const settled: { answer: { status: number; code?: string } | null } = { answer: null };
      void attempt.then((outcome) => (settled.answer = outcome));
      while (settled.answer === null && (await pending()) <= before);
      if (settled.answer?.status === 429) refused = settled.answer;
      else inFlight.push(attempt);
    }
    expect(refused).toEqual({ status: 429, code: 'WRITE_BUFFER_FULL' });
    expect(await pending()).toBeLessThanOrEqual(1 * MiB + chunk.length);
    // The peer starts reading: the waiting sends complete and new ones succeed.
    peer.socket.resume();
    const outcomes = await Promise.all(inFlight);
    expect(outcomes.every((o) => o.status === 200 || o.code === 'WRITE_BUFFER_FULL')).toBe(true);
    expect((await send()).status).toBe(200);
    const sent = outcomes.filter((o) => o.status === 200).length + 1;
    await peer.receive(sent * chunk.length);
    expect(peer.received.length).toBe(sent * chunk.length);
  });

  it('1,000 connects in a burst beyond maxConnections: the excess is dropped and counted, the API stays healthy', async () => {
    const listener = await listen({ maxConnections: 10, backlog: 2048, mode: 'discard' });
    const outcomes = await Promise.all(
      Array.from(
        { length: 1000 },
        () =>
          new Promise<string>((resolve) => {
            const socket = connect(listener.port, '127.0.0.1');
            sockets.push(socket);
            socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
            socket.on('connect', () => resolve('connected'));
          }),
      ),
    );
    expect(outcomes.filter((o) => o !== 'connected' && o !== 'ECONNRESET')).toEqual([]);
    const counters = await eventually(async () => {
      const state = (await t.http.get(`/v1/tcp/listeners/${listener.id}`).expect(200)).body.counters;
      expect(state.accepted + state.dropped).toBe(1000);
      return state;
    });
    expect(counters.accepted).toBe(10);
    expect(counters.dropped).toBe(990);
    expect((await t.http.get('/v1/tcp/connections').query({ listenerId: listener.id, limit: 100 }).expect(200)).body.items).toHaveLength(10);
    await t.http.delete(`/v1/tcp/listeners/${listener.id}`).query({ closeConnections: true }).expect(200);
    await t.http.get('/v1/limits').expect(200);
  });
});
