import { Toxiproxy, ToxiproxyError } from 'toxiproxy-node-client';
import { TcpPeer } from '../support/peers';
import { TestApp, startTestApp } from '../support/test-app';
import { UpstreamServer } from '../support/upstreams';
import { ToxiproxyPort } from '../../src/toxiproxy/toxiproxy-port';

/** The port of a Toxiproxy `listen` string (`127.0.0.1:41234`, `[::1]:41234`). */
const portOf = (listen: string): number => Number(listen.slice(listen.lastIndexOf(':') + 1));

describe('Toxiproxy’s API, driven by toxiproxy-node-client', () => {
  let t: TestApp;
  let echo: UpstreamServer;
  let toxiproxy: Toxiproxy;
  beforeAll(async () => {
    t = await startTestApp();
    echo = await UpstreamServer.start('echo');
    toxiproxy = new Toxiproxy(`http://127.0.0.1:${await t.listen()}/toxiproxy`);
  });
  afterAll(async () => {
    await echo.close();
    await t.close();
  });

  /** Milliseconds from writing to having the echo back, on a fresh client. */
  const roundTrip = async (port: number): Promise<number> => {
    const client = await TcpPeer.connect(port);
    const started = performance.now();
    await client.write('ping');
    await client.receive(4);
    const elapsed = performance.now() - started;
    client.socket.destroy();
    return elapsed;
  };

  it('creates a proxy, adds latency and timeout toxics, and their effects are measured; reset and remove', async () => {
    expect(await toxiproxy.getVersion()).toMatch(/^2\.\d+\.\d+$/);
    const proxy = await toxiproxy.createProxy({ name: 'echo', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echo.port}` });
    expect(proxy).toMatchObject({ name: 'echo', upstream: `127.0.0.1:${echo.port}`, enabled: true });
    const port = portOf(proxy.listen);
    expect(port).toBeGreaterThan(0);
    await roundTrip(port);

    const latency = await proxy.addToxic({ name: 'slow', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 100, jitter: 0 } });
    expect(latency.toJson()).toEqual({ name: 'slow', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 100, jitter: 0 } });
    const measured = await roundTrip(port);
    expect(measured).toBeGreaterThanOrEqual(100);
    expect(measured).toBeLessThan(200);
    const slower = await latency.update({ ...latency.toJson(), attributes: { latency: 200, jitter: 0 } });
    expect(slower.attributes).toEqual({ latency: 200, jitter: 0 });
    expect(await roundTrip(port)).toBeGreaterThanOrEqual(200);
    await slower.remove();

    // timeout: nothing passes, and the connection is closed once the timeout has run.
    await proxy.addToxic({ name: 'cut', type: 'timeout', stream: 'upstream', toxicity: 1, attributes: { timeout: 200 } });
    // Timed from before connecting: the toxic's clock starts when the proxy accepts, which may be before the client sees its connect.
    const started = performance.now();
    const client = await TcpPeer.connect(port);
    await client.write('lost');
    await client.whenClosed();
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect(client.received).toHaveLength(0);

    const all = await toxiproxy.getAll();
    expect(Object.keys(all)).toEqual(['echo']);
    expect((await toxiproxy.getApi().get(`${toxiproxy.host}/proxies/echo/toxics`)).data).toEqual([
      { name: 'cut', type: 'timeout', stream: 'upstream', toxicity: 1, attributes: { timeout: 200 } },
    ]);
    const disabled = await proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream });
    expect(disabled.enabled).toBe(false);
    await toxiproxy.reset();
    const afterReset = await toxiproxy.get('echo');
    expect(afterReset.enabled).toBe(true);
    expect((await toxiproxy.getApi().get(`${toxiproxy.host}/proxies/echo/toxics`)).data).toEqual([]);
    // Neither blackholed nor delayed by the toxics that were there.
    expect(await roundTrip(port)).toBeLessThan(200);

    await afterReset.remove();
    await expect(toxiproxy.get('echo')).rejects.toThrow(ToxiproxyError);
    expect((await t.http.get('/v1/tcp/proxies').expect(200)).body.items).toHaveLength(0);
  });

  it('populate creates or keeps proxies by name, and bad requests are refused with 4xx', async () => {
    const first = await toxiproxy.populate([{ name: 'one', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echo.port}` }]);
    const again = await toxiproxy.populate([{ name: 'one', listen: first.one.listen, upstream: `127.0.0.1:${echo.port}` }, { name: 'two', listen: '[::1]:0', upstream: `127.0.0.1:${echo.port}` }]);
    expect(again.one.listen).toBe(first.one.listen);
    expect(again.two.listen).toMatch(/^\[::1\]:\d+$/);
    await roundTrip(portOf(again.one.listen));

    const bad = async (path: string, body: unknown): Promise<{ status: number; code: string }> => {
      const res = await t.http.post(`/toxiproxy${path}`).send(body as object);
      return { status: res.status, code: res.body.code };
    };
    expect(await bad('/proxies', { name: 'one', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echo.port}` })).toEqual({ status: 409, code: 'PROXY_EXISTS' });
    expect(await bad('/proxies', { name: 'x', listen: '127.0.0.1:0', upstream: 'nowhere' })).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    expect(await bad('/proxies', { name: 'x', listen: '127.0.0.1:0', upstream: '169.254.169.254:80' })).toEqual({ status: 403, code: 'POLICY_DENIED' });
    expect(await bad('/proxies/one/toxics', { type: 'latency', attributes: { latency: -1 } })).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    expect(await bad('/proxies/one/toxics', { type: 'earthquake' })).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    expect(await bad('/proxies/none/toxics', { type: 'latency' })).toEqual({ status: 404, code: 'SOCKET_NOT_FOUND' });
    await t.http.post('/toxiproxy/proxies/one/toxics').send({ type: 'latency', attributes: { latency: 1 } }).expect(200, /latency_downstream/);
    expect(await bad('/proxies/one/toxics', { type: 'latency', attributes: { latency: 1 } })).toEqual({ status: 409, code: 'FAULT_EXISTS' });
    await t.http.delete('/toxiproxy/proxies/one/toxics/latency_downstream').expect(204);
    await t.http.get('/toxiproxy/proxies/one/toxics/latency_downstream').expect(404);

    await t.http.delete('/toxiproxy/proxies/one').expect(204);
    await t.http.delete('/toxiproxy/proxies/two').expect(204);
  });
});

describe('Toxiproxy’s API on a port of its own (SOCKPLANE_TOXIPROXY_API)', () => {
  it('answers Toxiproxy clients at the root of its port, and stops listening with the app', async () => {
    const t = await startTestApp({ SOCKPLANE_TOXIPROXY_API: 'true', SOCKPLANE_TOXIPROXY_PORT: '0' });
    const echo = await UpstreamServer.start('echo');
    try {
      const port = t.app.get(ToxiproxyPort).port;
      expect(port).toBeGreaterThan(0);
      const toxiproxy = new Toxiproxy(`http://127.0.0.1:${port}`);
      const proxy = await toxiproxy.createProxy({ name: 'own-port', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echo.port}` });
      expect((await toxiproxy.get('own-port')).listen).toBe(proxy.listen);
      await expect(toxiproxy.get('missing')).rejects.toThrow('status code 404');
      expect((await t.http.get('/v1/tcp/proxies').expect(200)).body.items.map((p: { name: string }) => p.name)).toEqual(['own-port']);
    } finally {
      await echo.close();
      await t.close();
    }
  });
});
