import { once } from 'node:events';
import { createServer } from 'node:net';
import { TcpPeer } from '../support/peers';
import { TestApp, startTestApp } from '../support/test-app';

describe('/v1/tcp/listeners', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Any bind host, so the kernel (not the bind policy) answers for wildcards and foreign addresses.
    t = await startTestApp({ SOCKPLANE_BIND_HOSTS: '0.0.0.0/0,::/0' });
  });
  afterAll(() => t.close());

  async function createListener(body: Record<string, unknown> = {}): Promise<{ id: string; local: { port: number } }> {
    const res = await t.http.post('/v1/tcp/listeners').send({ port: 0, ...body }).expect(201);
    return res.body;
  }

  it('POST › binds port 0 to a real free port and reports the options in force', async () => {
    const res = await t.http.post('/v1/tcp/listeners').send({ port: 0, mode: 'discard', backlog: 16, labels: { suite: 'listeners' } }).expect(201);
    expect(res.body).toMatchObject({
      id: expect.stringMatching(/^tl_[0-9a-z]+$/),
      kind: 'tcp-listener',
      state: 'listening',
      local: { address: '127.0.0.1', port: expect.any(Number), family: 'IPv4' },
      options: { backlog: 16, mode: 'discard', maxConnections: 0 },
      counters: { accepted: 0, active: 0, dropped: 0 },
      labels: { suite: 'listeners' },
      closed: null,
    });
    expect(res.body.local.port).toBeGreaterThan(0);
    const peer = await TcpPeer.connect(res.body.local.port);
    peer.socket.destroy();
  });

  it('POST › binds IPv6 loopback and the dual-stack wildcard', async () => {
    const v6 = await createListener({ host: '::1' });
    expect(v6.local).toMatchObject({ address: '::1', family: 'IPv6' });
    (await TcpPeer.connect(v6.local.port, '::1')).socket.destroy();

    const any = await createListener({ host: '::' });
    // `::` without ipv6Only also takes IPv4 clients.
    (await TcpPeer.connect(any.local.port, '127.0.0.1')).socket.destroy();
  });

  it('POST › answers 409 ADDRESS_IN_USE when the port is taken', async () => {
    const taken = createServer().listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const port = (taken.address() as { port: number }).port;
    const res = await t.http.post('/v1/tcp/listeners').send({ host: '127.0.0.1', port }).expect(409);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ code: 'ADDRESS_IN_USE', errno: 'EADDRINUSE', status: 409 });
    taken.close();
  });

  it('POST › answers 400 ADDRESS_NOT_AVAILABLE for an address this host does not have', async () => {
    const res = await t.http.post('/v1/tcp/listeners').send({ host: '192.0.2.1', port: 0 }).expect(400);
    expect(res.body).toMatchObject({ code: 'ADDRESS_NOT_AVAILABLE', errno: 'EADDRNOTAVAIL' });
  });

  it('GET › lists with filters and cursor pagination; GET one; 404 for unknown ids', async () => {
    const mine = [];
    for (let i = 0; i < 5; i++) mine.push(await createListener({ labels: { page: 'yes', n: String(i) } }));
    const first = await t.http.get('/v1/tcp/listeners').query({ label: 'page:yes', limit: 2 }).expect(200);
    expect(first.body.items.map((l: { id: string }) => l.id)).toEqual([mine[0].id, mine[1].id]);
    const second = await t.http.get('/v1/tcp/listeners').query({ label: 'page:yes', limit: 2, cursor: first.body.nextCursor }).expect(200);
    const third = await t.http.get('/v1/tcp/listeners').query({ label: 'page:yes', limit: 2, cursor: second.body.nextCursor }).expect(200);
    expect([...second.body.items, ...third.body.items].map((l: { id: string }) => l.id)).toEqual(mine.slice(2).map((l) => l.id));
    expect(third.body.nextCursor).toBeNull();
    const both = await t.http.get('/v1/tcp/listeners').query({ label: ['page:yes', 'n:3'] }).expect(200);
    expect(both.body.items.map((l: { id: string }) => l.id)).toEqual([mine[3].id]);

    await t.http.get(`/v1/tcp/listeners/${mine[4].id}`).expect(200);
    const missing = await t.http.get('/v1/tcp/listeners/tl_nope').expect(404);
    expect(missing.body).toMatchObject({ code: 'SOCKET_NOT_FOUND', instance: '/v1/tcp/listeners/tl_nope' });
    const bad = await t.http.get('/v1/tcp/listeners').query({ cursor: 'garbage' }).expect(400);
    expect(bad.body.code).toBe('INVALID_CURSOR');
  });

  it('GET …/connections › a long-poll returns the next accepted connection as soon as it arrives', async () => {
    const listener = await createListener();
    const waiting = t.http.get(`/v1/tcp/listeners/${listener.id}/connections`).query({ after: 0, waitMs: 10000 });
    const pending = waiting.then((res) => res);
    const peer = await TcpPeer.connect(listener.local.port);
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.body.lastAcceptIndex).toBe(1);
    expect(res.body.items).toHaveLength(1);
    expect(res.body.items[0]).toMatchObject({
      direction: 'inbound',
      listenerId: listener.id,
      acceptIndex: 1,
      remote: { port: peer.socket.localPort },
    });

    // The next wait starts after index 1 and sees only the second client.
    const next = t.http.get(`/v1/tcp/listeners/${listener.id}/connections`).query({ after: 1, waitMs: 10000 }).then((r) => r);
    const peer2 = await TcpPeer.connect(listener.local.port);
    const res2 = await next;
    expect(res2.body.items.map((c: { acceptIndex: number }) => c.acceptIndex)).toEqual([2]);
    expect(res2.body.items[0].remote.port).toBe(peer2.socket.localPort);

    // Without waitMs it answers at once, empty.
    const none = await t.http.get(`/v1/tcp/listeners/${listener.id}/connections`).query({ after: 2 }).expect(200);
    expect(none.body).toEqual({ items: [], lastAcceptIndex: 2 });
    peer.socket.destroy();
    peer2.socket.destroy();
  });

  it('maxConnections › drops connections beyond the limit and counts them', async () => {
    const listener = await createListener({ maxConnections: 1 });
    const kept = await TcpPeer.connect(listener.local.port);
    const refused = await TcpPeer.connect(listener.local.port);
    await refused.whenClosed();
    const res = await t.http.get(`/v1/tcp/listeners/${listener.id}`).expect(200);
    expect(res.body.counters).toMatchObject({ accepted: 1, active: 1, dropped: 1 });
    kept.socket.destroy();
  });

  it('DELETE › stops listening, keeps accepted connections unless asked, and forgets the listener', async () => {
    const listener = await createListener();
    const peer = await TcpPeer.connect(listener.local.port);
    const accepted = await t.http.get(`/v1/tcp/listeners/${listener.id}/connections`).query({ waitMs: 5000 }).expect(200);
    const closed = await t.http.delete(`/v1/tcp/listeners/${listener.id}`).expect(200);
    expect(closed.body).toMatchObject({ state: 'closed', closed: { reason: 'local' } });
    await t.http.get(`/v1/tcp/listeners/${listener.id}`).expect(404);
    await expect(TcpPeer.connect(listener.local.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    const conn = accepted.body.items[0];
    await t.http.post(`/v1/tcp/connections/${conn.id}/send`).send({ data: 'still here' }).expect(200);
    expect((await peer.receive(10)).toString()).toBe('still here');
    await t.http.delete(`/v1/tcp/connections/${conn.id}`).expect(200);
    await peer.whenClosed();
  });
});
