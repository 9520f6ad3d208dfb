import { PythonPeer, UdpPeer, eventually } from '../support/peers';
import { TestApp, startTestApp } from '../support/test-app';

describe('UDP proxies', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('POST /v1/udp/proxies › relays the tutorial’s udp_client.py to udp_server.py and the reply back, one mapping per client', async () => {
    const server = new PythonPeer('tutorial/udp_server.py', [0]);
    try {
      const [, port] = await server.waitForOutput(/UDP listening on 127\.0\.0\.1:(\d+)/);
      const proxy = (await t.http.post('/v1/udp/proxies').send({ listen: { host: '127.0.0.1', port: 0 }, upstream: { host: '127.0.0.1', port: Number(port) } }).expect(201)).body;
      const client = new PythonPeer('tutorial/udp_client.py', [proxy.listen.port]);
      expect(await client.exited).toBe(0);
      expect(client.stdout).toMatch(new RegExp(`^Received: b'ping' from \\('127\\.0\\.0\\.1', ${proxy.listen.port}\\)`));
      const shown = (await t.http.get(`/v1/udp/proxies/${proxy.id}`).expect(200)).body;
      expect(shown.counters).toMatchObject({ datagramsIn: 1, datagramsOut: 1, relayedUp: 1, relayedDown: 1, mappingsOpened: 1 });
      expect(shown.clients).toHaveLength(1);
      await t.http.delete(`/v1/udp/proxies/${proxy.id}`).expect(200);
      await t.http.get(`/v1/udp/proxies/${proxy.id}`).expect(404);
    } finally {
      server.kill();
    }
  });

  it('an idle client mapping expires; IPv6 proxies relay on ::1', async () => {
    const upstream = await UdpPeer.bind('::1');
    const proxy = (await t.http.post('/v1/udp/proxies').send({ listen: { host: '::1', port: 0 }, upstream: { host: '::1', port: upstream.port }, idleTimeoutMs: 100 }).expect(201)).body;
    const client = await UdpPeer.bind('::1');
    await client.send('hello', proxy.listen.port, '::1');
    expect((await upstream.receive(1))[0].data.toString()).toBe('hello');
    await eventually(async () => expect((await t.http.get(`/v1/udp/proxies/${proxy.id}`).expect(200)).body.counters.mappingsExpired).toBe(1));
    await t.http.delete(`/v1/udp/proxies/${proxy.id}`).expect(200);
    await Promise.all([client.close(), upstream.close()]);
  });

  it('maxClients bounds the mappings: a new client past it is dropped and counted, those with a mapping are still relayed', async () => {
    const [upstream, first, second] = await Promise.all([UdpPeer.bind(), UdpPeer.bind(), UdpPeer.bind()]);
    const proxy = (await t.http.post('/v1/udp/proxies').send({ listen: { port: 0 }, upstream: { host: '127.0.0.1', port: upstream.port }, maxClients: 1 }).expect(201)).body;
    expect(proxy.maxClients).toBe(1);
    await first.send('a', proxy.listen.port);
    expect((await upstream.receive(1))[0].data.toString()).toBe('a');
    await second.send('b', proxy.listen.port);
    await eventually(async () => expect((await t.http.get(`/v1/udp/proxies/${proxy.id}`).expect(200)).body.counters).toMatchObject({ datagramsIn: 2, clientsRefused: 1 }));
    await first.send('c', proxy.listen.port);
    expect((await upstream.receive(2)).map((d) => d.data.toString())).toEqual(['a', 'c']);
    expect((await t.http.get(`/v1/udp/proxies/${proxy.id}`).expect(200)).body).toMatchObject({ clients: [{ port: first.port }], counters: { mappingsOpened: 1, clientsRefused: 1 } });
    await t.http.delete(`/v1/udp/proxies/${proxy.id}`).expect(200);
    await Promise.all([upstream.close(), first.close(), second.close()]);
  });

  it('the same seed drops the same datagrams, twice', async () => {
    const dropped = async (): Promise<number[]> => {
      const upstream = await UdpPeer.bind();
      const proxy = (
        await t.http
          .post('/v1/udp/proxies')
          .send({ listen: { port: 0 }, upstream: { host: '127.0.0.1', port: upstream.port }, faults: [{ type: 'drop', direction: 'fromPeer', attributes: { probability: 0.4 }, select: { seed: 2026 } }] })
          .expect(201)
      ).body;
      const client = await UdpPeer.bind();
      for (let i = 0; i < 50; i++) await client.send(String(i), proxy.listen.port);
      const shown = await eventually(async () => {
        const body = (await t.http.get(`/v1/udp/proxies/${proxy.id}`).expect(200)).body;
        expect(body.counters.datagramsIn).toBe(50);
        return body;
      });
      await upstream.receive(shown.counters.relayedUp);
      const arrived = new Set(upstream.received.map((d) => Number(d.data.toString())));
      await t.http.delete(`/v1/udp/proxies/${proxy.id}`).expect(200);
      await Promise.all([client.close(), upstream.close()]);
      return Array.from({ length: 50 }, (_, i) => i).filter((i) => !arrived.has(i));
    };
    const first = await dropped();
    const second = await dropped();
    expect(second).toEqual(first);
    expect(first.length).toBeGreaterThan(5);
    expect(first.length).toBeLessThan(45);
  });

  it('duplicate sends a datagram twice; latency holds it; TCP-only faults and forbidden upstreams are refused', async () => {
    const upstream = await UdpPeer.bind();
    const proxy = (
      await t.http
        .post('/v1/udp/proxies')
        .send({ listen: { port: 0 }, upstream: { host: '127.0.0.1', port: upstream.port }, faults: [{ type: 'duplicate', direction: 'fromPeer', attributes: { probability: 1 } }, { type: 'latency', attributes: { ms: 100 } }] })
        .expect(201)
    ).body;
    const client = await UdpPeer.bind();
    const started = performance.now();
    await client.send('twice', proxy.listen.port);
    const got = await upstream.receive(2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(99);
    expect(got.map((d) => d.data.toString())).toEqual(['twice', 'twice']);

    await t.http.post('/v1/faults').send({ target: proxy.id, type: 'slice', attributes: { averageBytes: 1 } }).expect(400, /FAULT_NOT_APPLICABLE/);
    await t.http.post('/v1/udp/proxies').send({ listen: { port: 0 }, upstream: { host: '169.254.169.254', port: 53 } }).expect(403, /POLICY_DENIED/);
    await t.http.post('/v1/udp/proxies').send({ listen: { port: 0 }, upstream: { host: '127.0.0.1', port: 9 }, faults: [{ type: 'close' }] }).expect(400, /FAULT_NOT_APPLICABLE/);
    expect((await t.http.get('/v1/udp/proxies').expect(200)).body.items).toHaveLength(1);
    await t.http.delete(`/v1/udp/proxies/${proxy.id}`).expect(200);
    await Promise.all([client.close(), upstream.close()]);
  });
});
