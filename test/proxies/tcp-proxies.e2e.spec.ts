import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { TcpPeer, eventually } from '../support/peers';
import { TestApp, startTestApp } from '../support/test-app';
import { UpstreamServer, connectUntilClosed } from '../support/upstreams';

describe('TCP proxies', () => {
  let t: TestApp;
  let echo: UpstreamServer;
  beforeAll(async () => {
    t = await startTestApp();
    echo = await UpstreamServer.start('echo');
  });
  afterAll(async () => {
    await echo.close();
    await t.close();
  });

  const createProxy = async (body: Record<string, unknown>): Promise<{ id: string; listenerId: string; listen: { port: number } }> =>
    (await t.http.post('/v1/tcp/proxies').send({ listen: { host: '127.0.0.1', port: 0 }, upstream: { host: '127.0.0.1', port: echo.port }, ...body }).expect(201)).body;

  it('POST /v1/tcp/proxies › relays both ways; the two halves are linked connections and closing one closes the pair', async () => {
    const proxy = await createProxy({ labels: { suite: 'proxy' } });
    const client = await TcpPeer.connect(proxy.listen.port);
    await client.write('Hello, server!');
    expect((await client.receive(14)).toString()).toBe('Hello, server!');

    const shown = await t.http.get(`/v1/tcp/proxies/${proxy.id}`).expect(200);
    expect(shown.body).toMatchObject({ kind: 'tcp-proxy', state: 'enabled', counters: { accepted: 1, refused: 0 } });
    expect(shown.body.pairs).toHaveLength(1);
    const { clientConnectionId, upstreamConnectionId } = shown.body.pairs[0];
    const clientHalf = await t.http.get(`/v1/tcp/connections/${clientConnectionId}`).expect(200);
    const upstreamHalf = await t.http.get(`/v1/tcp/connections/${upstreamConnectionId}`).expect(200);
    expect(clientHalf.body).toMatchObject({ direction: 'inbound', listenerId: proxy.listenerId, proxy: { proxyId: proxy.id, peerConnectionId: upstreamConnectionId }, counters: { bytesIn: 14, bytesOut: 14 } });
    expect(upstreamHalf.body).toMatchObject({ direction: 'outbound', remote: { port: echo.port }, proxy: { proxyId: proxy.id, peerConnectionId: clientConnectionId }, counters: { bytesIn: 14, bytesOut: 14 } });
    // Not recording: nothing is kept in the byte logs.
    expect(clientHalf.body.buffer).toMatchObject({ heldBytes: 0 });

    const upstreamSocketClosed = once([...echo.sockets][0], 'close');
    await t.http.delete(`/v1/tcp/connections/${upstreamConnectionId}`).expect(200);
    await client.whenClosed();
    await upstreamSocketClosed;
    await eventually(async () => expect((await t.http.get(`/v1/tcp/proxies/${proxy.id}`).expect(200)).body.pairs).toHaveLength(0));
    await t.http.delete(`/v1/tcp/proxies/${proxy.id}`).expect(200);
    await t.http.get(`/v1/tcp/listeners/${proxy.listenerId}`).expect(404);
  });

  it('a client’s FIN reaches the upstream, and the upstream’s answer still comes back (half-close)', async () => {
    const proxy = await createProxy({});
    const client = await TcpPeer.connect(proxy.listen.port, '127.0.0.1', { allowHalfOpen: true });
    await client.write('bye');
    client.socket.end();
    expect((await client.receive(3)).toString()).toBe('bye');
    await client.whenClosed();
    expect(client.ended).toBe(true);
    await t.http.delete(`/v1/tcp/proxies/${proxy.id}`).expect(200);
  });

  it('IPv6: a proxy on ::1 to an upstream on ::1', async () => {
    const echo6 = await UpstreamServer.start('echo', '::1');
    const proxy = (await t.http.post('/v1/tcp/proxies').send({ listen: { host: '::1', port: 0 }, upstream: { host: '::1', port: echo6.port } }).expect(201)).body;
    expect(proxy.listen).toMatchObject({ address: '::1', family: 'IPv6' });
    const client = await TcpPeer.connect(proxy.listen.port, '::1');
    await client.write('six');
    expect((await client.receive(3)).toString()).toBe('six');
    await t.http.delete(`/v1/tcp/proxies/${proxy.id}`).expect(200);
    await client.whenClosed();
    await echo6.close();
  });

  it('record: true keeps what crossed in the halves’ byte logs', async () => {
    const proxy = await createProxy({ record: true });
    const client = await TcpPeer.connect(proxy.listen.port);
    await client.write('ping');
    await client.receive(4);
    const pair = (await t.http.get(`/v1/tcp/proxies/${proxy.id}`).expect(200)).body.pairs[0];
    const fromClient = await t.http.get(`/v1/tcp/connections/${pair.clientConnectionId}/buffer`).query({ waitMs: 2000, minBytes: 4 }).expect(200);
    const fromUpstream = await t.http.get(`/v1/tcp/connections/${pair.upstreamConnectionId}/buffer`).query({ waitMs: 2000, minBytes: 4 }).expect(200);
    expect(fromClient.body.data).toBe('ping');
    expect(fromUpstream.body.data).toBe('ping');
    await t.http.delete(`/v1/tcp/proxies/${proxy.id}`).expect(200);
    await client.whenClosed();
  });

  it('an upstream that cannot be reached closes the client at once; with whenUpstreamDown: refuse, clients are reset until it is back', async () => {
    const gone = await UpstreamServer.start('echo');
    const port = gone.port;
    await gone.close();
    const closing = await createProxy({ upstream: { host: '127.0.0.1', port } });
    expect(await connectUntilClosed(closing.listen.port)).toBeNull();
    const shown = await t.http.get(`/v1/tcp/proxies/${closing.id}`).expect(200);
    expect(shown.body.counters).toMatchObject({ upstreamFailures: 1, lastUpstreamError: expect.stringContaining('ECONNREFUSED') });
    await t.http.delete(`/v1/tcp/proxies/${closing.id}`).expect(200);

    const refusing = await createProxy({ upstream: { host: '127.0.0.1', port }, whenUpstreamDown: 'refuse' });
    expect(await connectUntilClosed(refusing.listen.port)).toBeNull();
    expect((await t.http.get(`/v1/tcp/proxies/${refusing.id}`).expect(200)).body.state).toBe('upstream-down');
    expect(await connectUntilClosed(refusing.listen.port)).toBe('ECONNRESET');
    // Back: the reset client's dial finds the upstream, and the next client gets through.
    const back = await UpstreamServer.start('echo');
    await t.http.patch(`/v1/tcp/proxies/${refusing.id}`).send({ upstream: { host: '127.0.0.1', port: back.port } }).expect(200);
    expect(await connectUntilClosed(refusing.listen.port)).toBe('ECONNRESET');
    await eventually(async () => expect((await t.http.get(`/v1/tcp/proxies/${refusing.id}`).expect(200)).body.state).toBe('enabled'));
    const through = await TcpPeer.connect(refusing.listen.port);
    await through.write('up');
    expect((await through.receive(2)).toString()).toBe('up');
    await t.http.delete(`/v1/tcp/proxies/${refusing.id}`).expect(200);
    await through.whenClosed();
    await back.close();
  });

  it('PATCH enabled: false resets the open pairs and every new client; true lets them through again', async () => {
    const proxy = await createProxy({});
    const open = await TcpPeer.connect(proxy.listen.port);
    await open.write('x');
    await open.receive(1);
    await t.http.patch(`/v1/tcp/proxies/${proxy.id}`).send({ enabled: false }).expect(200, /"state":"disabled"/);
    await open.whenClosed();
    expect(open.errorCode).toBe('ECONNRESET');
    expect(await connectUntilClosed(proxy.listen.port)).toBe('ECONNRESET');
    await t.http.patch(`/v1/tcp/proxies/${proxy.id}`).send({ enabled: true }).expect(200);
    const again = await TcpPeer.connect(proxy.listen.port);
    await again.write('y');
    expect((await again.receive(1)).toString()).toBe('y');
    await t.http.delete(`/v1/tcp/proxies/${proxy.id}`).expect(200);
    await again.whenClosed();
  });

  it('answers 403 for an upstream the network policy forbids, 400 for a bad body, 409 for a taken name, and creates nothing', async () => {
    const before = (await t.http.get('/v1/tcp/listeners').expect(200)).body.items.length;
    const denied = await t.http.post('/v1/tcp/proxies').send({ listen: { port: 0 }, upstream: { host: '169.254.169.254', port: 80 } }).expect(403);
    expect(denied.body).toMatchObject({ code: 'POLICY_DENIED' });
    const bad = await t.http.post('/v1/tcp/proxies').send({ listen: { port: 0 }, upstream: { host: '127.0.0.1', port: 0 } }).expect(400);
    expect(bad.body).toMatchObject({ code: 'VALIDATION_FAILED' });
    await t.http.post('/v1/tcp/proxies').send({ listen: { port: 0 } }).expect(400, /upstream/);
    const badFault = await t.http
      .post('/v1/tcp/proxies')
      .send({ listen: { port: 0 }, upstream: { host: '127.0.0.1', port: echo.port }, faults: [{ type: 'latency', attributes: { ms: -1 } }] })
      .expect(400);
    expect(badFault.body.errors).toEqual([{ field: 'faults[0].attributes.ms', message: expect.stringContaining('whole number') }]);
    expect((await t.http.get('/v1/tcp/listeners').expect(200)).body.items).toHaveLength(before);
    expect((await t.http.get('/v1/tcp/proxies').expect(200)).body.items).toHaveLength(0);

    const named = await createProxy({ name: 'only-one' });
    await t.http.post('/v1/tcp/proxies').send({ name: 'only-one', listen: { port: 0 }, upstream: { host: '127.0.0.1', port: echo.port } }).expect(409, /PROXY_EXISTS/);
    await t.http.delete(`/v1/tcp/proxies/${named.id}`).expect(200);
    await t.http.get(`/v1/tcp/proxies/${named.id}`).expect(404, /SOCKET_NOT_FOUND/);
  });

  it('takes every proxy and fault example of the OpenAPI document as sent', async () => {
    const document = JSON.parse(readFileSync(join(__dirname, '..', '..', 'openapi', 'openapi.json'), 'utf8'));
    const examplesOf = (path: string, method: string): { value: Record<string, unknown> }[] =>
      Object.values(document.paths[path][method].requestBody.content['application/json'].examples);
    const proxies: string[] = [];
    for (const { value } of examplesOf('/v1/tcp/proxies', 'post')) proxies.push((await t.http.post('/v1/tcp/proxies').send(value).expect(201)).body.id);
    expect(proxies.length).toBeGreaterThanOrEqual(3);
    for (const { value } of examplesOf('/v1/tcp/proxies/{id}', 'patch')) await t.http.patch(`/v1/tcp/proxies/${proxies[0]}`).send(value).expect(200);
    const faults: string[] = [];
    for (const { value } of examplesOf('/v1/faults', 'post')) faults.push((await t.http.post('/v1/faults').send(value).expect(201)).body.id);
    expect(faults.length).toBeGreaterThanOrEqual(4);
    for (const { value } of examplesOf('/v1/faults/{id}', 'patch')) await t.http.patch(`/v1/faults/${faults[0]}`).send(value).expect(200);
    for (const { value } of examplesOf('/v1/faults', 'put')) await t.http.put('/v1/faults').send(value).expect(200);
    await Promise.all(proxies.map((id) => t.http.delete(`/v1/tcp/proxies/${id}`).expect(200)));
    expect((await t.http.get('/v1/faults').expect(200)).body.items).toHaveLength(0);
  });

  it('terminates TLS from its clients and originates TLS to the upstream, seeing the bytes in clear between them', async () => {
    const ca = (await t.http.get('/v1/tls/ca?format=pem').expect(200)).text;
    const upstream = (await t.http.post('/v1/tcp/listeners').send({ host: '127.0.0.1', port: 0, mode: 'echo', tls: { mode: 'implicit' } }).expect(201)).body;
    const proxy = (
      await t.http
        .post('/v1/tcp/proxies')
        .send({ listen: { port: 0 }, upstream: { host: '127.0.0.1', port: upstream.local.port }, record: true, tls: { listen: { mode: 'implicit' }, upstream: { mode: 'implicit', ca: 'instance' } } })
        .expect(201)
    ).body;
    expect(proxy.tls).toEqual({ listen: 'implicit', upstream: 'implicit' });
    const client = tlsConnect({ host: '127.0.0.1', port: proxy.listen.port, servername: 'proxy.example.test', ca });
    await once(client, 'secureConnect');
    client.write('top secret');
    let echoed = '';
    while (echoed.length < 10) echoed += String((await once(client, 'data'))[0]);
    expect(echoed).toBe('top secret');
    const pair = (await t.http.get(`/v1/tcp/proxies/${proxy.id}`).expect(200)).body.pairs[0];
    const clear = await t.http.get(`/v1/tcp/connections/${pair.clientConnectionId}/buffer`).query({ waitMs: 2000, minBytes: 10 }).expect(200);
    expect(clear.body.data).toBe('top secret');
    const upstreamHalf = (await t.http.get(`/v1/tcp/connections/${pair.upstreamConnectionId}`).expect(200)).body;
    expect(upstreamHalf.tls).toMatchObject({ state: 'established' });
    client.destroy();
    await t.http.delete(`/v1/tcp/proxies/${proxy.id}`).expect(200);
    await t.http.delete(`/v1/tcp/listeners/${upstream.id}?closeConnections=true`).expect(200);
  });
});
