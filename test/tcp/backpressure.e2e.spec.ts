import { createHash } from 'node:crypto';
import { TcpPeer } from '../support/peers';
import { rawBytes, startTestApp, TestApp } from '../support/test-app';

const CAP = 64 * 1024;
/** One socket read can land beyond the cap before reading pauses. */
const READ_CHUNK = 64 * 1024;
const TOTAL = 8 * 1024 * 1024;

describe('bounded memory without loss', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ SOCKPLANE_MAX_BUFFERED_BYTES: String(CAP) });
  });
  afterAll(() => t.close());

  it('a peer sending far more than the cap is paused, then every byte arrives in order as the reader releases', async () => {
    const listener = await t.http.post('/v1/tcp/listeners').send({ port: 0 }).expect(201);
    const peer = await TcpPeer.connect(listener.body.local.port);
    const accepted = await t.http.get(`/v1/tcp/listeners/${listener.body.id}/connections`).query({ waitMs: 5000 }).expect(200);
    const id = accepted.body.items[0].id;

    const payload = Buffer.alloc(TOTAL);
    for (let i = 0; i < TOTAL; i += 4) payload.writeUInt32BE(i / 4, i);
    const sent = new Promise<void>((resolve, reject) => peer.socket.end(payload, () => resolve()).once('error', reject));

    // Nobody reads yet: the connection fills to its cap and stops reading; the sender is held back.
    const full = await t.http.get(`/v1/tcp/connections/${id}/buffer`).query({ waitMs: 10000, minBytes: CAP, maxBytes: CAP }).expect(200);
    expect(full.body.byteCount).toBe(CAP);
    const held = await t.http.get(`/v1/tcp/connections/${id}`).expect(200);
    expect(held.body.buffer.paused).toBe(true);
    expect(held.body.buffer.heldBytes).toBeLessThanOrEqual(CAP + READ_CHUNK);
    expect(peer.socket.writableLength).toBeGreaterThan(0);

    // Drain: read raw octets from the next offset, release what was read, until eof.
    const digest = createHash('sha256');
    let offset = 0;
    let maxHeld = 0;
    for (;;) {
      const res = await t.http
        .get(`/v1/tcp/connections/${id}/buffer`)
        .query({ from: offset, maxBytes: 256 * 1024, waitMs: 10000 })
        .set('accept', 'application/octet-stream')
        .buffer(true)
        .parse(rawBytes)
        .expect(200);
      const bytes = res.body as Buffer;
      digest.update(bytes);
      offset = Number(res.headers['sockplane-next-offset']);
      maxHeld = Math.max(maxHeld, Number(res.headers['sockplane-end-offset']) - Number(res.headers['sockplane-oldest-offset']));
      const released = await t.http.delete(`/v1/tcp/connections/${id}/buffer`).query({ upTo: offset }).expect(200);
      expect(released.body.oldestOffset).toBe(offset);
      if (res.headers['sockplane-eof'] === 'true') break;
    }
    await sent;
    expect(offset).toBe(TOTAL);
    expect(digest.digest('hex')).toBe(createHash('sha256').update(payload).digest('hex'));
    expect(maxHeld).toBeLessThanOrEqual(CAP + READ_CHUNK);

    const done = await t.http.get(`/v1/tcp/connections/${id}`).expect(200);
    expect(done.body.counters.bytesIn).toBe(TOTAL);
    expect(done.body.buffer).toMatchObject({ heldBytes: 0, paused: false, inputEnded: true });
    await t.http.delete(`/v1/tcp/listeners/${listener.body.id}?closeConnections=true`).expect(200);
  });

  it('echo mode pushes back on a peer that writes without reading, and loses nothing', async () => {
    const listener = await t.http.post('/v1/tcp/listeners').send({ port: 0, mode: 'echo' }).expect(201);
    const peer = await TcpPeer.connect(listener.body.local.port);
    const payload = Buffer.alloc(4 * 1024 * 1024, 7);
    peer.socket.pause();
    peer.socket.write(payload);
    // The peer reads nothing for now; its own send queue backs up because the echo stopped reading.
    await new Promise<void>((resolve) => {
      const check = (): void => (peer.socket.writableLength > 0 ? resolve() : void setImmediate(check));
      check();
    });
    peer.socket.resume();
    expect((await peer.receive(payload.length)).equals(payload)).toBe(true);
    peer.socket.end();
    await peer.whenClosed();
    await t.http.delete(`/v1/tcp/listeners/${listener.body.id}`).expect(200);
  });
});
