import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { WebSocket } from 'ws';
import { AttachService } from '../../src/attach/attach.service';
import { TcpPeer } from '../support/peers';
import { startTestApp, TestApp } from '../support/test-app';
import { closeWs, inboxOf, openWs, refusalOf } from '../support/ws-client';

const MiB = 1024 * 1024;

/** Deterministic bytes, different at every offset, so a gap or a repeat changes the digest. */
function pattern(size: number, seed: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i += 4) bytes.writeUInt32BE((i / 4 + seed) >>> 0, i);
  return bytes;
}

describe('GET /v1/tcp/connections/{id}/attach', () => {
  let t: TestApp;
  let port: number;
  const peers: Socket[] = [];
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    port = await t.listen();
  });
  afterEach(async () => {
    await Promise.all(sockets.splice(0).map((ws) => closeWs(ws)));
    for (const peer of peers.splice(0)) peer.destroy();
  });
  afterAll(() => t.close());

  /** A listener, a Node peer connected to it, and the id of the connection it accepted. */
  async function acceptedPair(): Promise<{ listenerId: string; id: string; peer: TcpPeer }> {
    const listener = await t.http.post('/v1/tcp/listeners').send({ port: 0 }).expect(201);
    const peer = await TcpPeer.connect(listener.body.local.port, '127.0.0.1', { allowHalfOpen: true });
    peers.push(peer.socket);
    const accepted = await t.http.get(`/v1/tcp/listeners/${listener.body.id}/connections`).query({ waitMs: 5000 }).expect(200);
    return { listenerId: listener.body.id, id: accepted.body.items[0].id, peer };
  }

  async function attach(path: string, protocol?: string): Promise<WebSocket> {
    const ws = await openWs(port, path, { protocol });
    sockets.push(ws);
    return ws;
  }

  it('replays 1 MB from offset 0 and then streams 64 MiB live: same sha256, no gap or repeat at the switch', async () => {
    const { id, peer } = await acceptedPair();
    const before = pattern(MiB, 0);
    const live = pattern(64 * MiB, MiB / 4);
    await peer.write(before);
    await t.http.get(`/v1/tcp/connections/${id}/buffer`).query({ from: 0, minBytes: MiB, maxBytes: MiB, waitMs: 5000 }).expect(200);

    const ws = await attach(`/v1/tcp/connections/${id}/attach?fromOffset=0&release=auto`, 'sockplane.raw.v1');
    expect(ws.protocol).toBe('sockplane.raw.v1');
    const digest = createHash('sha256');
    let received = 0;
    const total = before.length + live.length;
    const done = new Promise<void>((resolve) =>
      inboxOf(ws).stream((data) => {
        digest.update(data);
        received += data.length;
        if (received >= total) resolve();
      }),
    );
    // The live bytes start while the replay is on its way.
    peer.socket.end(live);
    await done;
    expect(received).toBe(total);
    expect(digest.digest('hex')).toBe(createHash('sha256').update(before).update(live).digest('hex'));
    const closed = await once(ws, 'close');
    expect(closed[0]).toBe(4101);
    const state = await t.http.get(`/v1/tcp/connections/${id}`).expect(200);
    expect(state.body.buffer.heldBytes).toBe(0);
  });

  it('64 MiB written through the WebSocket reach the peer intact, through the connection’s send path', async () => {
    const { id, peer } = await acceptedPair();
    const payload = pattern(64 * MiB, 7);
    const digest = createHash('sha256');
    let received = 0;
    peer.socket.removeAllListeners('data');
    const arrived = new Promise<void>((resolve) =>
      peer.socket.on('data', (chunk: Buffer) => {
        digest.update(chunk);
        received += chunk.length;
        if (received === payload.length) resolve();
      }),
    );
    const ws = await attach(`/v1/tcp/connections/${id}/attach?write=true&read=false`);
    for (let at = 0; at < payload.length; at += MiB) ws.send(payload.subarray(at, at + MiB));
    await arrived;
    expect(digest.digest('hex')).toBe(createHash('sha256').update(payload).digest('hex'));
    const state = await t.http.get(`/v1/tcp/connections/${id}`).expect(200);
    expect(state.body.counters.bytesOut).toBe(payload.length);
  });

  it('a reader that stops reading pauses the peer; nothing is lost when it reads again', async () => {
    const { id, peer } = await acceptedPair();
    const ws = await attach(`/v1/tcp/connections/${id}/attach?release=auto`);
    // The client stops reading its socket: the service's WebSocket backs up, and the service stops reading the peer.
    ws.pause();
    const payload = pattern(32 * MiB, 3);
    let written = 0;
    let blocked = false;
    while (written < payload.length) {
      const chunk = payload.subarray(written, written + MiB);
      written += chunk.length;
      if (!peer.socket.write(chunk)) {
        const drained = once(peer.socket, 'drain').then(() => true);
        const stalled = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 1000));
        if (!(await Promise.race([drained, stalled]))) {
          blocked = true;
          break;
        }
      }
    }
    expect(blocked).toBe(true);
    const held = await t.http.get(`/v1/tcp/connections/${id}`).expect(200);
    expect(held.body.counters.bytesIn).toBeLessThan(written);
    expect(held.body.buffer.heldBytes).toBeLessThanOrEqual(8 * MiB);

    const digest = createHash('sha256');
    let received = 0;
    const all = new Promise<void>((resolve) =>
      inboxOf(ws).stream((data) => {
        digest.update(data);
        received += data.length;
        if (received === payload.length) resolve();
      }),
    );
    ws.resume();
    peer.socket.end(payload.subarray(written));
    await all;
    expect(digest.digest('hex')).toBe(createHash('sha256').update(payload).digest('hex'));
  });

  it('two readers and a writer at once; a second exclusive writer gets 409', async () => {
    const { id, peer } = await acceptedPair();
    const path = `/v1/tcp/connections/${id}/attach`;
    const readers = [inboxOf(await attach(path, 'sockplane.channel.v1')), inboxOf(await attach(path, 'sockplane.channel.v1'))];
    const writer = await attach(`${path}?write=true&exclusiveWriter=true&read=false`, 'sockplane.channel.v1');
    const refused = await refusalOf(port, `${path}?write=true&exclusiveWriter=true`);
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('WRITER_ATTACHED');
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect((await refusalOf(port, `${path}?write=true`)).body.code).toBe('WRITER_ATTACHED');

    await peer.write('Hello, server!');
    for (const reader of readers) {
      await reader.until(() => Buffer.concat(reader.channel(1)).toString() === 'Hello, server!');
      expect(reader.notices()[0]).toMatchObject({ type: 'attached', resourceId: id, protocol: 'sockplane.channel.v1', read: true, write: false });
    }
    writer.send(Buffer.concat([Buffer.from([0]), Buffer.from('Hello, client!')]));
    expect((await peer.receive(14)).toString()).toBe('Hello, client!');

    // The writer half-closes: the peer sees FIN, and both readers keep reading what the peer still sends.
    writer.send(Buffer.from([255]));
    await once(peer.socket, 'end');
    await peer.write('bye');
    for (const reader of readers) await reader.until(() => Buffer.concat(reader.channel(1)).toString() === 'Hello, server!bye');

    // Once the writer detached, the lock is free again.
    await closeWs(writer);
    const next = await attach(`${path}?write=true&exclusiveWriter=true`, 'sockplane.channel.v1');
    expect(next.protocol).toBe('sockplane.channel.v1');
  });

  it('close code 4001 resets the connection, 4000 ends it gracefully; the socket closing closes the WebSocket with its reason', async () => {
    const reset = await acceptedPair();
    const ws = await attach(`/v1/tcp/connections/${reset.id}/attach?write=true`);
    const peerClosed = new Promise((resolve) => reset.peer.socket.once('close', resolve));
    await closeWs(ws, 4001);
    await peerClosed;
    expect(reset.peer.errorCode).toBe('ECONNRESET');

    const graceful = await acceptedPair();
    const second = await attach(`/v1/tcp/connections/${graceful.id}/attach?write=true`);
    await closeWs(second, 4000);
    await once(graceful.peer.socket, 'end');
    graceful.peer.socket.end();

    const third = await acceptedPair();
    const inbox = inboxOf(await attach(`/v1/tcp/connections/${third.id}/attach?write=true`, 'sockplane.channel.v1'));
    third.peer.socket.resetAndDestroy();
    expect(await inbox.whenClosed()).toEqual({ code: 4100, reason: 'peer-reset' });
    expect(inbox.notices().at(-1)).toMatchObject({ type: 'closed', reason: 'peer-reset', errno: 'ECONNRESET' });
  });

  it('a STARTTLS upgrade while attached: channel 2 says TLS is established, and the reader gets the decrypted bytes', async () => {
    const listener = await t.http.post('/v1/tcp/listeners').send({ port: 0, tls: { mode: 'starttls' } }).expect(201);
    const peer = await TcpPeer.connect(listener.body.local.port);
    peers.push(peer.socket);
    const accepted = await t.http.get(`/v1/tcp/listeners/${listener.body.id}/connections`).query({ waitMs: 5000 }).expect(200);
    const id = accepted.body.items[0].id as string;
    const inbox = inboxOf(await attach(`/v1/tcp/connections/${id}/attach`, 'sockplane.channel.v1'));
    const ca = (await t.http.get('/v1/tls/ca?format=pem').expect(200)).text;
    peer.socket.removeAllListeners('data');
    const secure = tlsConnect({ socket: peer.socket, ca, servername: 'localhost' });
    peers.push(secure);
    // The ClientHello arrives, and reaches the reader, as plain bytes; the upgrade takes it back out of the log (inOffset 0) for TLS.
    await inbox.until(() => inbox.channel(1).length > 0);
    await Promise.all([t.http.post(`/v1/tcp/connections/${id}/tls`).send({ role: 'server', inOffset: 0 }).expect(200), once(secure, 'secureConnect')]);
    secure.write('over TLS');
    // What TLS decrypts is logged from offset 0 again, and still reaches the reader.
    await inbox.until(() => Buffer.concat(inbox.channel(1)).toString().endsWith('over TLS'));
    expect(inbox.notices().map((n) => n.type)).toEqual(['attached', 'live', 'tls-established']);
    expect(inbox.notices()[2]).toMatchObject({ protocol: 'TLSv1.3' });
  });

  it('refuses before upgrading: 426 for a plain GET, 404 for an unknown id, 400 for a foreign subprotocol or bad query', async () => {
    const { id } = await acceptedPair();
    const plain = await t.http.get(`/v1/tcp/connections/${id}/attach`).expect(426);
    expect(plain.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(plain.headers.upgrade).toBe('websocket');
    expect(plain.body.code).toBe('UPGRADE_REQUIRED');
    expect((await refusalOf(port, '/v1/tcp/connections/tc_000000000000000000/attach')).status).toBe(404);
    expect((await refusalOf(port, `/v1/tcp/connections/${id}/attach`, { protocol: 'v5.channel.k8s.io' })).body.code).toBe('VALIDATION_FAILED');
    expect((await refusalOf(port, `/v1/tcp/connections/${id}/attach?fromOffset=-1`)).body.code).toBe('VALIDATION_FAILED');
    expect((await refusalOf(port, `/v1/tcp/connections/${id}/attach?read=false`)).body.code).toBe('VALIDATION_FAILED');
    expect((await refusalOf(port, `/v1/tcp/connections/${id}/attach?exclusiveWriter=true`)).body.code).toBe('VALIDATION_FAILED');
  });
});

describe('attach on shutdown', () => {
  it('closing the service detaches every WebSocket and lets go of its sockets', async () => {
    const t = await startTestApp();
    const port = await t.listen();
    const listener = await t.http.post('/v1/tcp/listeners').send({ port: 0 }).expect(201);
    const peer = await TcpPeer.connect(listener.body.local.port);
    const accepted = await t.http.get(`/v1/tcp/listeners/${listener.body.id}/connections`).query({ waitMs: 5000 }).expect(200);
    const ws = await openWs(port, `/v1/tcp/connections/${accepted.body.items[0].id}/attach?write=true`, { protocol: 'sockplane.channel.v1' });
    const inbox = inboxOf(ws);
    const peerClosed = new Promise((resolve) => peer.socket.once('close', resolve));
    const attachments = t.app.get(AttachService);
    expect(attachments.size).toBe(1);
    await t.close();
    expect(attachments.size).toBe(0);
    const { code } = await inbox.whenClosed();
    expect([1001, 4100]).toContain(code);
    await peerClosed;
  });
});
