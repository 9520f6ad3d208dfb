import { Response } from 'supertest';
import { SocketRegistry } from '../../src/sockets/socket-registry';
import { HostResolver } from '../../src/sockets/destination';
import { UdpPeer } from '../support/peers';
import { TestApp, startTestApp } from '../support/test-app';

/** Names the tests resolve without DNS; anything else does not resolve. */
const hostResolver: HostResolver = async (host) => {
  if (host === 'peer.test') return ['127.0.0.1'];
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
};

/** Resolves once `count` datagrams reached the socket, kept or dropped (the API shows it only by reading). */
function arrivals(t: TestApp, id: string, count: number): Promise<void> {
  let seen = 0;
  return new Promise((resolve) => {
    const unsubscribe = t.app.get(SocketRegistry).events.subscribe((event) => {
      if (event.resourceId !== id || (event.type !== 'udp.datagram' && event.type !== 'udp.dropped')) return;
      if (++seen === count) {
        unsubscribe();
        resolve();
      }
    });
  });
}

function expectProblem(res: Response, status: number, code: string): void {
  expect({ status: res.status, type: res.headers['content-type'], code: res.body.code }).toEqual({
    status,
    type: expect.stringContaining('application/problem+json'),
    code,
  });
}

describe('/v1/udp/sockets', () => {
  let t: TestApp;
  const peers: UdpPeer[] = [];

  beforeAll(async () => {
    // The multicast member binds the wildcard, which the default bind policy leaves out.
    t = await startTestApp({ SOCKPLANE_BIND_HOSTS: '127.0.0.0/8,::1,0.0.0.0' }, { hostResolver });
  });
  afterEach(async () => {
    await Promise.all(peers.splice(0).map((p) => p.close()));
  });
  afterAll(() => t.close());

  async function createSocket(body: object = {}): Promise<{ id: string; port: number }> {
    const res = await t.http.post('/v1/udp/sockets').send(body).expect(201);
    return { id: res.body.id, port: res.body.local.port };
  }

  async function peer(host?: string): Promise<UdpPeer> {
    const p = await UdpPeer.bind(host);
    peers.push(p);
    return p;
  }

  it('POST › binds a free port and shows the real one, the options in force, counters and labels', async () => {
    const res = await t.http.post('/v1/udp/sockets').send({ labels: { suite: 'udp' }, recvBufferSize: 65536 }).expect(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^us_[0-9a-z]{16}$/),
      name: null,
      kind: 'udp-socket',
      type: 'udp4',
      state: 'bound',
      local: { address: '127.0.0.1', port: expect.any(Number), family: 'IPv4' },
      remote: null,
      options: {
        mode: 'buffer',
        reuseAddr: false,
        ipv6Only: false,
        broadcast: false,
        ttl: 64,
        recvBufferSize: expect.any(Number),
        sendBufferSize: expect.any(Number),
        multicast: null,
        maxDatagrams: 10000,
        maxBufferedBytes: 4194304,
      },
      counters: { datagramsIn: 0, datagramsOut: 0, bytesIn: 0, bytesOut: 0, dropped: 0 },
      buffer: { oldestSeq: 0, endSeq: 0, heldDatagrams: 0, heldBytes: 0, dropped: 0 },
      labels: { suite: 'udp' },
      createdAt: expect.any(String),
      lastActivityAt: expect.any(String),
      lastError: null,
      closed: null,
    });
    expect(res.body.local.port).toBeGreaterThan(0);
    expect(res.body.options.recvBufferSize).toBeGreaterThanOrEqual(65536);
    await t.http.delete(`/v1/udp/sockets/${res.body.id}`).expect(200);
  });

  it('GET › lists by state and label a page at a time, and gets one; DELETE closes and forgets', async () => {
    const a = await createSocket({ labels: { list: 'yes' } });
    const b = await createSocket({ labels: { list: 'yes' } });
    const c = await createSocket({ labels: { list: 'no' } });

    const first = await t.http.get('/v1/udp/sockets').query({ label: 'list:yes', state: 'bound', limit: 1 }).expect(200);
    expect(first.body.items.map((s: { id: string }) => s.id)).toEqual([a.id]);
    const second = await t.http.get('/v1/udp/sockets').query({ label: 'list:yes', limit: 1, cursor: first.body.nextCursor }).expect(200);
    expect(second.body).toMatchObject({ items: [{ id: b.id }], nextCursor: null });
    expect((await t.http.get('/v1/udp/sockets').query({ state: 'closed' }).expect(200)).body.items).toEqual([]);

    expect((await t.http.get(`/v1/udp/sockets/${a.id}`).expect(200)).body).toMatchObject({ id: a.id, local: { port: a.port } });
    const deleted = await t.http.delete(`/v1/udp/sockets/${a.id}`).expect(200);
    expect(deleted.body).toMatchObject({ state: 'closed', closed: { reason: 'local', errno: null } });
    expectProblem(await t.http.get(`/v1/udp/sockets/${a.id}`), 404, 'SOCKET_NOT_FOUND');
    expectProblem(await t.http.delete(`/v1/udp/sockets/${a.id}`), 404, 'SOCKET_NOT_FOUND');
    await t.http.delete(`/v1/udp/sockets/${b.id}`).expect(200);
    await t.http.delete(`/v1/udp/sockets/${c.id}`).expect(200);
  });

  it('a read with minDatagrams answers with the whole batch once it is held', async () => {
    const a = await createSocket();
    const b = await createSocket();
    const batch = t.http.get(`/v1/udp/sockets/${b.id}/datagrams`).query({ minDatagrams: 3, waitMs: 10_000 }).then((r) => r);
    for (const data of ['one', 'two', 'three']) {
      await t.http.post(`/v1/udp/sockets/${a.id}/send`).send({ host: '127.0.0.1', port: b.port, data }).expect(200);
    }
    const read = await batch;
    expect({ status: read.status, data: read.body.datagrams.map((d: { data: string }) => d.data) }).toEqual({ status: 200, data: ['one', 'two', 'three'] });
    await t.http.delete(`/v1/udp/sockets/${a.id}`).expect(200);
    await t.http.delete(`/v1/udp/sockets/${b.id}`).expect(200);
  });

  it('two sockets of the service talk to each other; reads never consume, release frees', async () => {
    const a = await createSocket();
    const b = await createSocket();
    const waiting = t.http.get(`/v1/udp/sockets/${b.id}/datagrams`).query({ waitMs: 5000 }).then((r) => r);
    await t.http.post(`/v1/udp/sockets/${a.id}/send`).send({ host: '127.0.0.1', port: b.port, data: 'hello b' }).expect(200);
    const read = await waiting;
    expect(read.status).toBe(200);
    expect(read.body.datagrams).toEqual([
      { seq: 0, sender: { address: '127.0.0.1', port: a.port, family: 'IPv4' }, size: 7, receivedAt: expect.any(String), data: 'hello b' },
    ]);

    // B answers whoever wrote, as a server would.
    const { address, port } = read.body.datagrams[0].sender;
    await t.http.post(`/v1/udp/sockets/${b.id}/send`).send({ host: address, port, data: '6f6b', encoding: 'hex' }).expect(200);
    const reply = await t.http.get(`/v1/udp/sockets/${a.id}/datagrams`).query({ waitMs: 5000, encoding: 'base64' }).expect(200);
    expect(reply.body.datagrams[0]).toMatchObject({ data: Buffer.from('ok').toString('base64'), sender: { port: b.port } });
    expect(reply.body.encoding).toBe('base64');

    await t.http.post(`/v1/udp/sockets/${a.id}/send`).send({ host: '127.0.0.1', port: b.port, data: 'second' }).expect(200);
    const both = await t.http.get(`/v1/udp/sockets/${b.id}/datagrams`).query({ from: 1, waitMs: 5000 }).expect(200);
    expect(both.body).toMatchObject({ from: 1, nextSeq: 2, endSeq: 2, datagrams: [{ seq: 1, data: 'second' }] });
    const again = await t.http.get(`/v1/udp/sockets/${b.id}/datagrams`).expect(200);
    expect(again.body.datagrams.map((d: { data: string }) => d.data)).toEqual(['hello b', 'second']);

    const released = await t.http.delete(`/v1/udp/sockets/${b.id}/datagrams`).query({ upTo: 1 }).expect(200);
    expect(released.body).toEqual({ oldestSeq: 1, endSeq: 2, heldDatagrams: 1, heldBytes: 6, dropped: 0 });
    expectProblem(await t.http.get(`/v1/udp/sockets/${b.id}/datagrams`).query({ from: 0 }), 410, 'OFFSET_RELEASED');
    expectProblem(await t.http.get(`/v1/udp/sockets/${b.id}/datagrams`).query({ from: 3 }), 416, 'OFFSET_OUT_OF_RANGE');
    expectProblem(await t.http.delete(`/v1/udp/sockets/${b.id}/datagrams`).query({ upTo: 3 }), 416, 'OFFSET_OUT_OF_RANGE');

    const counters = (await t.http.get(`/v1/udp/sockets/${a.id}`).expect(200)).body.counters;
    expect(counters).toEqual({ datagramsIn: 1, datagramsOut: 2, bytesIn: 2, bytesOut: 13, dropped: 0 });
    await t.http.delete(`/v1/udp/sockets/${a.id}`).expect(200);
    await t.http.delete(`/v1/udp/sockets/${b.id}`).expect(200);
  });

  it('a default peer (connected UDP) takes sends without a destination, resolved once from a host name', async () => {
    const server = await peer();
    const res = await t.http.post('/v1/udp/sockets').send({ connectTo: { host: 'peer.test', port: server.port } }).expect(201);
    expect(res.body.remote).toEqual({ address: '127.0.0.1', port: server.port, family: 'IPv4' });

    const sent = await t.http.post(`/v1/udp/sockets/${res.body.id}/send`).send({ data: 'to the peer' }).expect(200);
    expect(sent.body.destination).toEqual(res.body.remote);
    const [got] = await server.receive(1);
    expect({ data: got.data.toString(), port: got.port }).toEqual({ data: 'to the peer', port: res.body.local.port });

    await server.send('back', res.body.local.port);
    const read = await t.http.get(`/v1/udp/sockets/${res.body.id}/datagrams`).query({ waitMs: 5000 }).expect(200);
    expect(read.body.datagrams[0]).toMatchObject({ data: 'back', sender: { port: server.port } });

    const elsewhere = await t.http.post(`/v1/udp/sockets/${res.body.id}/send`).send({ host: '127.0.0.1', port: 9, data: 'x' });
    expectProblem(elsewhere, 400, 'INVALID_DESTINATION');
    await t.http.delete(`/v1/udp/sockets/${res.body.id}`).expect(200);
  });

  it('echo answers every sender and discard only counts; raw octet-stream bodies take their destination from the query', async () => {
    const echo = await createSocket({ mode: 'echo' });
    const discard = await createSocket({ mode: 'discard' });
    const client = await peer();
    const raw = await t.http
      .post(`/v1/udp/sockets/${discard.id}/send`)
      .query({ host: '127.0.0.1', port: client.port })
      .set('content-type', 'application/octet-stream')
      .send(Buffer.from([0, 1, 2, 255]))
      .expect(200);
    expect(raw.body).toMatchObject({ bytesSent: 4, destination: { port: client.port } });
    expect((await client.receive(1))[0].data).toEqual(Buffer.from([0, 1, 2, 255]));

    await client.send('one', echo.port);
    const [, echoed] = await client.receive(2);
    expect({ data: echoed.data.toString(), port: echoed.port }).toEqual({ data: 'one', port: echo.port });

    const discarded = arrivals(t, discard.id, 1);
    await client.send('two', discard.port);
    await discarded;
    const state = (await t.http.get(`/v1/udp/sockets/${discard.id}`).expect(200)).body;
    expect({ counters: state.counters, buffer: state.buffer }).toEqual({
      counters: { datagramsIn: 1, datagramsOut: 1, bytesIn: 3, bytesOut: 4, dropped: 0 },
      buffer: { oldestSeq: 1, endSeq: 1, heldDatagrams: 0, heldBytes: 0, dropped: 0 },
    });
    await t.http.delete(`/v1/udp/sockets/${echo.id}`).expect(200);
    await t.http.delete(`/v1/udp/sockets/${discard.id}`).expect(200);
  });

  it('multicast: a member of a group on the loopback interface receives what another socket sends to the group', async () => {
    const group = `239.255.${Math.floor(Math.random() * 250) + 1}.${Math.floor(Math.random() * 250) + 1}`;
    // A member binds the wildcard (a datagram to the group is not addressed to 127.0.0.1); TTL 0 keeps
    // everything on this host.
    const member = await t.http
      .post('/v1/udp/sockets')
      .send({ host: '0.0.0.0', multicast: { groups: [group], interface: '127.0.0.1', ttl: 0 } })
      .expect(201);
    expect(member.body.options.multicast).toEqual({ groups: [group], interface: '127.0.0.1', ttl: 0, loopback: true });
    const sender = await createSocket({ multicast: { interface: '127.0.0.1', ttl: 0 } });
    await t.http.post(`/v1/udp/sockets/${sender.id}/send`).send({ host: group, port: member.body.local.port, data: 'to the group' }).expect(200);
    const read = await t.http.get(`/v1/udp/sockets/${member.body.id}/datagrams`).query({ waitMs: 5000 }).expect(200);
    expect(read.body.datagrams[0]).toMatchObject({ data: 'to the group', sender: { port: sender.port } });
    await t.http.delete(`/v1/udp/sockets/${member.body.id}`).expect(200);
    await t.http.delete(`/v1/udp/sockets/${sender.id}`).expect(200);
  });

  it('a datagram larger than UDP allows is refused with the reason, never truncated', async () => {
    const socket = await createSocket();
    const target = await peer();
    const send = (size: number): Promise<Response> =>
      t.http
        .post(`/v1/udp/sockets/${socket.id}/send`)
        .query({ host: '127.0.0.1', port: target.port })
        .set('content-type', 'application/octet-stream')
        .send(Buffer.alloc(size, 0x61));
    const tooLarge = await send(65_508);
    expectProblem(tooLarge, 413, 'DATAGRAM_TOO_LARGE');
    expect(tooLarge.body).toMatchObject({ limit: 65_507, size: 65_508, detail: expect.stringContaining('at most 65507 bytes') });
    expect((await send(65_507)).status).toBe(200);
    expect((await target.receive(1))[0].data.length).toBe(65_507);

    const six = await createSocket({ type: 'udp6' });
    const json = await t.http.post(`/v1/udp/sockets/${six.id}/send`).send({ host: '::1', port: 9, data: 'a'.repeat(65_528) });
    expectProblem(json, 413, 'DATAGRAM_TOO_LARGE');
    expect(json.body.limit).toBe(65_527);
    await t.http.delete(`/v1/udp/sockets/${socket.id}`).expect(200);
    await t.http.delete(`/v1/udp/sockets/${six.id}`).expect(200);
  });

  it('answers bad input with problem+json 4xx and socket errors through the catalog', async () => {
    const socket = await createSocket();
    const send = (body: object, query: object = {}): Promise<Response> => t.http.post(`/v1/udp/sockets/${socket.id}/send`).query(query).send(body);

    const badType = await t.http.post('/v1/udp/sockets').send({ type: 'udp5' });
    expectProblem(badType, 400, 'VALIDATION_FAILED');
    expect(badType.body.errors).toEqual([{ field: 'type', message: expect.any(String) }]);
    expectProblem(await t.http.post('/v1/udp/sockets').send({ port: 70000 }), 400, 'VALIDATION_FAILED');
    expectProblem(await t.http.post('/v1/udp/sockets').send({ speed: 'fast' }), 400, 'VALIDATION_FAILED');
    expectProblem(await t.http.post('/v1/udp/sockets').send({ multicast: { groups: ['10.0.0.1'] } }), 400, 'VALIDATION_FAILED');
    expectProblem(await t.http.post('/v1/udp/sockets').send({ connectTo: { host: '127.1', port: 9 } }), 400, 'VALIDATION_FAILED');
    expectProblem(await t.http.post('/v1/udp/sockets').send({ type: 'udp4', host: '::1' }), 400, 'ADDRESS_NOT_AVAILABLE');
    expectProblem(await t.http.post('/v1/udp/sockets').send({ port: socket.port }), 409, 'ADDRESS_IN_USE');

    expectProblem(await send({ host: '127.1', port: 9, data: 'x' }), 400, 'VALIDATION_FAILED');
    expectProblem(await send({ host: '127.0.0.1', port: 0, data: 'x' }), 400, 'VALIDATION_FAILED');
    expectProblem(await send({ host: '127.0.0.1', port: 9, data: 'x', encoding: 'latin1' }), 400, 'VALIDATION_FAILED');
    expectProblem(await send({ host: '127.0.0.1', port: 9, data: 'xyz', encoding: 'hex' }), 400, 'INVALID_PAYLOAD');
    expectProblem(await send({ data: 'x' }), 400, 'INVALID_DESTINATION');
    expectProblem(await send({ host: '::1', port: 9, data: 'x' }), 400, 'INVALID_DESTINATION');
    expectProblem(await send({ data: 'x' }, { host: '127.0.0.1', port: 9 }), 400, 'VALIDATION_FAILED');
    expectProblem(await send({ host: 'nowhere.test', port: 9, data: 'x' }), 502, 'NAME_NOT_RESOLVED');
    expectProblem(await send({ host: '255.255.255.255', port: 9, data: 'x' }), 403, 'PERMISSION_DENIED');
    expectProblem(await t.http.get(`/v1/udp/sockets/${socket.id}/datagrams`).query({ max: 0 }), 400, 'VALIDATION_FAILED');
    expectProblem(await t.http.delete(`/v1/udp/sockets/${socket.id}/datagrams`), 400, 'VALIDATION_FAILED');
    expectProblem(await t.http.post('/v1/udp/sockets/us_nope/send').send({ host: '127.0.0.1', port: 9, data: 'x' }), 404, 'SOCKET_NOT_FOUND');
    await t.http.delete(`/v1/udp/sockets/${socket.id}`).expect(200);
  });

  it('DELETE answers a read that is waiting on the socket', async () => {
    const socket = await createSocket();
    const registry = t.app.get(SocketRegistry);
    const waiting = t.http.get(`/v1/udp/sockets/${socket.id}/datagrams`).query({ waitMs: 30_000 }).then((r) => r);
    while (registry.getUdpSocket(socket.id).waitingReads === 0) await new Promise((resolve) => setImmediate(resolve));
    await t.http.delete(`/v1/udp/sockets/${socket.id}`).expect(200);
    const read = await waiting;
    expect({ status: read.status, datagrams: read.body.datagrams }).toEqual({ status: 200, datagrams: [] });
  });
});

describe('/v1/udp/sockets under a flood', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ SOCKPLANE_UDP_MAX_DATAGRAMS: '5', SOCKPLANE_UDP_MAX_BUFFERED_BYTES: '1024' });
  });
  afterAll(() => t.close());

  it('drops and counts what passes the datagram cap, keeps answering, and keeps again once released', async () => {
    // A roomy SO_RCVBUF so the kernel itself drops nothing: every datagram sent reaches the service.
    const socket = (await t.http.post('/v1/udp/sockets').send({ recvBufferSize: 1024 * 1024 }).expect(201)).body;
    const flooder = await UdpPeer.bind();
    const arrived = arrivals(t, socket.id, 200);
    for (let i = 0; i < 200; i++) await flooder.send(`d${i}`, socket.local.port);
    await arrived;

    const read = await t.http.get(`/v1/udp/sockets/${socket.id}/datagrams`).expect(200);
    expect(read.body.datagrams.map((d: { data: string }) => d.data)).toEqual(['d0', 'd1', 'd2', 'd3', 'd4']);
    expect(read.body.datagrams.length + read.body.dropped).toBe(200);
    const state = (await t.http.get(`/v1/udp/sockets/${socket.id}`).expect(200)).body;
    expect(state.counters).toMatchObject({ datagramsIn: 200, dropped: 195 });
    expect(state.buffer).toMatchObject({ heldDatagrams: 5, endSeq: 5 });
    await t.http.get('/health/live').expect(200);

    await t.http.delete(`/v1/udp/sockets/${socket.id}/datagrams`).query({ upTo: read.body.nextSeq }).expect(200);
    await flooder.send('after', socket.local.port);
    const next = await t.http.get(`/v1/udp/sockets/${socket.id}/datagrams`).query({ from: 5, waitMs: 5000 }).expect(200);
    expect(next.body).toMatchObject({ datagrams: [{ seq: 5, data: 'after' }], dropped: 195 });
    await flooder.close();
    await t.http.delete(`/v1/udp/sockets/${socket.id}`).expect(200);
  });

  it('drops a datagram that would pass the byte cap', async () => {
    const socket = (await t.http.post('/v1/udp/sockets').send({}).expect(201)).body;
    const flooder = await UdpPeer.bind();
    const arrived = arrivals(t, socket.id, 4);
    for (let i = 0; i < 4; i++) await flooder.send(Buffer.alloc(300, 0x61 + i), socket.local.port);
    await arrived;
    const state = (await t.http.get(`/v1/udp/sockets/${socket.id}`).expect(200)).body;
    expect({ counters: state.counters, buffer: state.buffer }).toEqual({
      counters: { datagramsIn: 4, datagramsOut: 0, bytesIn: 1200, bytesOut: 0, dropped: 1 },
      buffer: { oldestSeq: 0, endSeq: 3, heldDatagrams: 3, heldBytes: 900, dropped: 1 },
    });
    await flooder.close();
    await t.http.delete(`/v1/udp/sockets/${socket.id}`).expect(200);
  });
});
