import { Server, Socket, createServer } from 'node:net';
import { once } from 'node:events';
import request from 'supertest';
import { TcpPeer, eventually } from '../support/peers';
import { TestApp, startTestApp } from '../support/test-app';
import { UpstreamServer } from '../support/upstreams';

const KiB = 1024;
const MiB = 1024 * KiB;
/** The pending-write cap the app runs with: what a fault may hold per direction before it pushes back. */
const CAP = 256 * KiB;
/** One read from a socket, which may arrive while reading is being stopped. */
const READ_SLACK = 64 * KiB;

describe('fault triggers on frames, and faults that push back on the sender', () => {
  let t: TestApp;
  let echo: UpstreamServer;
  beforeAll(async () => {
    t = await startTestApp({ SOCKPLANE_MAX_PENDING_WRITE_BYTES: String(CAP) });
    echo = await UpstreamServer.start('echo');
  });
  afterAll(async () => {
    await echo.close();
    await t.close();
  });

  const proxyTo = async (upstreamPort: number): Promise<{ id: string; port: number }> => {
    const body = (await t.http.post('/v1/tcp/proxies').send({ listen: { host: '127.0.0.1', port: 0 }, upstream: { host: '127.0.0.1', port: upstreamPort } }).expect(201)).body;
    return { id: body.id, port: body.listen.port };
  };
  const getFault = async (id: string): Promise<Record<string, unknown> & { heldBytes: number; triggered: number }> => (await t.http.get(`/v1/faults/${id}`).expect(200)).body;
  const firstPair = async (proxyId: string): Promise<{ clientConnectionId: string; upstreamConnectionId: string }> =>
    eventually(async () => {
      const pairs = (await t.http.get(`/v1/tcp/proxies/${proxyId}`).expect(200)).body.pairs;
      expect(pairs).toHaveLength(1);
      return pairs[0];
    });

  it('onFrame on a framed listener: a close fault fires only once a line BEGIN arrives', async () => {
    const listener = (await t.http.post('/v1/tcp/listeners').send({ port: 0, framing: { type: 'lines' } }).expect(201)).body;
    const fault = (
      await t.http
        .post('/v1/faults')
        .send({ target: listener.id, type: 'close', direction: 'toPeer', attributes: { afterMs: 0, how: 'fin' }, trigger: { onFrame: { equals: 'BEGIN' } } })
        .expect(201)
    ).body;
    expect(fault.trigger).toEqual({ afterBytes: null, afterMs: null, onFrame: { equals: 'BEGIN' } });
    const peer = await TcpPeer.connect(listener.local.port);
    const accepted = await t.http.get(`/v1/tcp/listeners/${listener.id}/connections`).query({ waitMs: 5000 }).expect(200);
    const id = accepted.body.items[0].id;
    // A line that only starts with BEGIN is not BEGIN: the connection stays open past it.
    await peer.write('HELLO\nBEGINNING\n');
    await eventually(async () => expect((await t.http.get(`/v1/tcp/connections/${id}`).expect(200)).body.framing.framesIn).toBe(2));
    expect(peer.closed).toBe(false);
    expect((await getFault(fault.id)).triggered).toBe(0);
    await peer.write('BEGIN\n');
    await peer.whenClosed();
    expect(peer.ended).toBe(true);
    expect((await getFault(fault.id)).triggered).toBe(1);
    await t.http.delete(`/v1/tcp/listeners/${listener.id}`).expect(200);
  });

  it('onFrame on a proxy without framing: a received chunk that matches arms a latency fault, and only from then on', async () => {
    const proxy = await proxyTo(echo.port);
    const fault = (
      await t.http
        .post('/v1/faults')
        .send({ target: proxy.id, type: 'latency', direction: 'toPeer', attributes: { ms: 600 }, trigger: { onFrame: { regex: '^BEGIN\\b' } } })
        .expect(201)
    ).body;
    const client = await TcpPeer.connect(proxy.port);
    const roundTrip = async (text: string): Promise<number> => {
      const started = performance.now();
      const before = client.received.length;
      await client.write(text);
      await client.receive(before + text.length);
      return performance.now() - started;
    };
    expect(await roundTrip('ping')).toBeLessThan(600);
    expect((await getFault(fault.id)).triggered).toBe(0);
    // The echo of BEGIN leaves after the fault armed, so it is delayed as well.
    expect(await roundTrip('BEGIN now')).toBeGreaterThanOrEqual(600);
    expect(await roundTrip('ping')).toBeGreaterThanOrEqual(600);
    expect((await getFault(fault.id)).triggered).toBe(1);
    expect(client.received.toString()).toBe('pingBEGIN nowping');
    await t.http.delete(`/v1/tcp/proxies/${proxy.id}`).expect(200);
    await client.whenClosed();
  });

  it('a bad onFrame answers 400 VALIDATION_FAILED naming the field, and creates nothing', async () => {
    const proxy = await proxyTo(echo.port);
    const bad = async (onFrame: unknown, field: string): Promise<void> => {
      const answer = await t.http.post('/v1/faults').send({ target: proxy.id, type: 'latency', attributes: { ms: 1 }, trigger: { onFrame } }).expect(400);
      expect(answer.body).toMatchObject({ code: 'VALIDATION_FAILED' });
      expect(answer.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    };
    await bad({ regex: '(unclosed' }, 'trigger.onFrame.regex');
    await bad({ bytes: 'zz' }, 'trigger.onFrame.bytes');
    await bad({ all: [{ nope: 'x' }] }, 'trigger.onFrame.all[0].nope');
    const patched = await t.http.post('/v1/faults').send({ target: proxy.id, type: 'latency', attributes: { ms: 1 } }).expect(201);
    await t.http
      .patch(`/v1/faults/${patched.body.id}`)
      .send({ trigger: { onFrame: { regex: '(' } } })
      .expect(400);
    expect((await t.http.get('/v1/faults').query({ target: proxy.id }).expect(200)).body.items).toHaveLength(1);
    await t.http.delete(`/v1/tcp/proxies/${proxy.id}`).expect(200);
  });

  it('fromPeer: a sender pumping 32 MiB through a 64 KiB/s bandwidth fault is held back by TCP; the fault holds at most the pending-write cap', async () => {
    const sink = await UpstreamServer.start('sink');
    const proxy = await proxyTo(sink.port);
    const fault = (await t.http.post('/v1/faults').send({ target: proxy.id, type: 'bandwidth', direction: 'fromPeer', attributes: { bytesPerSecond: 64 * KiB } }).expect(201)).body;
    const client = await TcpPeer.connect(proxy.port);
    const total = 32 * MiB;
    client.socket.write(Buffer.alloc(total, 1));
    const pair = await firstPair(proxy.id);
    await eventually(async () => expect((await getFault(fault.id)).heldBytes).toBeGreaterThan(CAP / 2));
    // A second of flow through the fault: reading resumes and stops again as it drains.
    await sink.receive(sink.received + 64 * KiB);
    const held = (await getFault(fault.id)).heldBytes;
    const clientHalf = (await t.http.get(`/v1/tcp/connections/${pair.clientConnectionId}`).expect(200)).body;
    expect(held).toBeLessThanOrEqual(CAP + READ_SLACK);
    // What the service read from the client is what went on plus what the fault holds: nothing piles up elsewhere.
    expect(clientHalf.counters.bytesIn).toBeLessThanOrEqual(sink.received + CAP + 2 * READ_SLACK);
    // The rest waits in the sender's own buffer (and the kernel's), not in the service.
    expect(client.socket.writableLength).toBeGreaterThan(16 * MiB);
    // Deleting the proxy resets the pair: the client goes first, so its reset is no error of the test.
    client.socket.destroy();
    await t.http.delete(`/v1/tcp/proxies/${proxy.id}`).expect(200);
    await sink.close();
  });

  it('toPeer on an echo listener: a client pumping 32 MiB through a 64 KiB/s bandwidth fault on the echo is held back; the fault holds at most the pending-write cap', async () => {
    const listener = (await t.http.post('/v1/tcp/listeners').send({ port: 0, mode: 'echo' }).expect(201)).body;
    const fault = (await t.http.post('/v1/faults').send({ target: listener.id, type: 'bandwidth', direction: 'toPeer', attributes: { bytesPerSecond: 64 * KiB } }).expect(201)).body;
    const client = await TcpPeer.connect(listener.local.port);
    client.socket.write(Buffer.alloc(32 * MiB, 1));
    await eventually(async () => expect((await getFault(fault.id)).heldBytes).toBeGreaterThan(CAP / 2));
    // A second of echo through the fault: reading resumes and stops again as it drains.
    await client.receive(64 * KiB);
    const held = (await getFault(fault.id)).heldBytes;
    const accepted = (await t.http.get(`/v1/tcp/listeners/${listener.id}/connections`).expect(200)).body.items[0];
    expect(held).toBeLessThanOrEqual(CAP + READ_SLACK);
    // The echo reads no more than went back plus what the fault holds: the rest waits in the client's buffer.
    expect(accepted.counters.bytesIn).toBeLessThanOrEqual(accepted.counters.bytesOut + CAP + 2 * READ_SLACK);
    expect(client.socket.writableLength).toBeGreaterThan(16 * MiB);
    client.socket.destroy();
    await t.http.delete(`/v1/tcp/listeners/${listener.id}?closeConnections=true`).expect(200);
  });

  it('toPeer on a connection: sends over the API are refused 429 once the fault holds the pending-write cap, as for a peer that does not read', async () => {
    const sink = await UpstreamServer.start('sink');
    const connection = (await t.http.post('/v1/tcp/connections').send({ host: '127.0.0.1', port: sink.port }).expect(201)).body;
    const fault = (await t.http.post('/v1/faults').send({ target: connection.id, type: 'bandwidth', direction: 'toPeer', attributes: { bytesPerSecond: KiB } }).expect(201)).body;
    const body = Buffer.alloc(64 * KiB, 1);
    let accepted = 0;
    let refused: request.Response | null = null;
    while (refused === null && accepted < 64) {
      const answer = await t.http.post(`/v1/tcp/connections/${connection.id}/send`).set('content-type', 'application/octet-stream').send(body);
      if (answer.status === 429) refused = answer;
      else accepted += 1;
    }
    expect(refused?.body.code).toBe('WRITE_BUFFER_FULL');
    expect((await getFault(fault.id)).heldBytes).toBeLessThanOrEqual(CAP + body.length);
    await t.http.delete(`/v1/tcp/connections/${connection.id}?mode=reset`).expect(200);
    await sink.close();
  });

  it('toPeer: an upstream pumping 32 MiB through a 64 KiB/s bandwidth fault on the client’s side is held back too', async () => {
    const sockets = new Set<Socket>();
    const total = 32 * MiB;
    const source: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => socket.destroy());
      socket.on('close', () => sockets.delete(socket));
      socket.write(Buffer.alloc(total, 2));
    });
    source.listen(0, '127.0.0.1');
    await once(source, 'listening');
    const address = source.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    const proxy = await proxyTo(address.port);
    const fault = (await t.http.post('/v1/faults').send({ target: proxy.id, type: 'bandwidth', direction: 'toPeer', attributes: { bytesPerSecond: 64 * KiB } }).expect(201)).body;
    const client = await TcpPeer.connect(proxy.port);
    const pair = await firstPair(proxy.id);
    await eventually(async () => expect((await getFault(fault.id)).heldBytes).toBeGreaterThan(CAP / 2));
    await client.receive(client.received.length + 64 * KiB);
    const held = (await getFault(fault.id)).heldBytes;
    const upstreamHalf = (await t.http.get(`/v1/tcp/connections/${pair.upstreamConnectionId}`).expect(200)).body;
    expect(held).toBeLessThanOrEqual(CAP + READ_SLACK);
    // The upstream half stopped reading: the service took in little more than the client got and the fault holds.
    expect(upstreamHalf.counters.bytesIn).toBeLessThanOrEqual(client.received.length + CAP + 2 * READ_SLACK);
    const [upstreamSocket] = sockets;
    expect(upstreamSocket.writableLength).toBeGreaterThan(16 * MiB);
    client.socket.destroy();
    await t.http.delete(`/v1/tcp/proxies/${proxy.id}`).expect(200);
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => source.close(() => resolve()));
  });
});
