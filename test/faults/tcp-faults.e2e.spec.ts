import { TcpPeer, eventually } from '../support/peers';
import { TestApp, startTestApp } from '../support/test-app';
import { UpstreamServer, connectUntilClosed } from '../support/upstreams';

interface Fault {
  type: string;
  direction?: string;
  attributes?: Record<string, number | string>;
  select?: Record<string, number | string>;
  trigger?: Record<string, number>;
}

describe('TCP faults', () => {
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

  /** A proxy to `upstream` (the echo server unless given) with these faults; returns its id and port. */
  const proxyWith = async (faults: Fault[], upstreamPort = echo.port): Promise<{ id: string; port: number }> => {
    const body = (await t.http.post('/v1/tcp/proxies').send({ listen: { host: '127.0.0.1', port: 0 }, upstream: { host: '127.0.0.1', port: upstreamPort }, faults }).expect(201)).body;
    return { id: body.id, port: body.listen.port };
  };

  /** Milliseconds from writing `text` to having its echo back, on a fresh client of the proxy. */
  const echoRoundTrip = async (port: number, text = 'ping'): Promise<number> => {
    const client = await TcpPeer.connect(port);
    const started = performance.now();
    await client.write(text);
    await client.receive(text.length);
    const elapsed = performance.now() - started;
    client.socket.destroy();
    return elapsed;
  };

  const removeProxy = (id: string) => t.http.delete(`/v1/tcp/proxies/${id}`).expect(200);

  it('latency: 100 ms toPeer adds 100–130 ms to an echo round trip, one way only; fromPeer the same; both doubles it', async () => {
    const proxies = await Promise.all(['toPeer', 'fromPeer', 'both'].map((direction) => proxyWith([{ type: 'latency', direction, attributes: { ms: 100 } }])));
    const [toPeer, fromPeer, both] = await Promise.all(proxies.map((p) => echoRoundTrip(p.port)));
    expect(toPeer).toBeGreaterThanOrEqual(100);
    expect(toPeer).toBeLessThan(130);
    expect(fromPeer).toBeGreaterThanOrEqual(100);
    expect(fromPeer).toBeLessThan(130);
    expect(both).toBeGreaterThanOrEqual(200);
    expect(both).toBeLessThan(260);
    await Promise.all(proxies.map((p) => removeProxy(p.id)));
  });

  it('bandwidth: 1 MiB at 256 KiB/s takes 3.5–4.5 s', async () => {
    const sink = await UpstreamServer.start('sink');
    const proxy = await proxyWith([{ type: 'bandwidth', direction: 'fromPeer', attributes: { bytesPerSecond: 256 * 1024 } }], sink.port);
    const client = await TcpPeer.connect(proxy.port);
    const started = performance.now();
    await client.write(Buffer.alloc(1024 * 1024, 7));
    await sink.receive(1024 * 1024);
    const seconds = (performance.now() - started) / 1000;
    expect(seconds).toBeGreaterThanOrEqual(3.5);
    expect(seconds).toBeLessThanOrEqual(4.5);
    await removeProxy(proxy.id);
    await client.whenClosed();
    await sink.close();
  });

  it('limitBytes: passes that many bytes, then ends the connection (FIN)', async () => {
    const proxy = await proxyWith([{ type: 'limitBytes', direction: 'toPeer', attributes: { bytes: 5, then: 'fin' } }]);
    const client = await TcpPeer.connect(proxy.port);
    await client.write('hello world');
    await client.whenClosed();
    expect(client.received.toString()).toBe('hello');
    expect(client.ended).toBe(true);
    expect(client.errorCode).toBeNull();
    await removeProxy(proxy.id);
  });

  it('limitTime: the connection lives that long, then is reset; close rst resets at once (the client sees ECONNRESET)', async () => {
    const limited = await proxyWith([{ type: 'limitTime', attributes: { ms: 200, then: 'rst' } }]);
    const closing = await proxyWith([{ type: 'close', attributes: { afterMs: 0, how: 'rst' } }]);
    const started = performance.now();
    const [limitedEnd, closingEnd] = await Promise.all([connectUntilClosed(limited.port), connectUntilClosed(closing.port)]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(195);
    expect(limitedEnd).toBe('ECONNRESET');
    expect(closingEnd).toBe('ECONNRESET');
    await Promise.all([removeProxy(limited.id), removeProxy(closing.id)]);
  });

  it('refuse: a proxy or a plain listener resets every new connection', async () => {
    const proxy = await proxyWith([{ type: 'refuse' }]);
    const listener = (await t.http.post('/v1/tcp/listeners').send({ host: '127.0.0.1', port: 0, mode: 'echo' }).expect(201)).body;
    await t.http.post('/v1/faults').send({ target: listener.id, type: 'refuse' }).expect(201);
    expect(await connectUntilClosed(proxy.port)).toBe('ECONNRESET');
    expect(await connectUntilClosed(listener.local.port)).toBe('ECONNRESET');
    expect((await t.http.get(`/v1/tcp/proxies/${proxy.id}`).expect(200)).body.counters).toMatchObject({ accepted: 1, refused: 1 });
    expect(echo.sockets.size).toBe(0);
    await removeProxy(proxy.id);
    await t.http.delete(`/v1/tcp/listeners/${listener.id}?closeConnections=true`).expect(200);
    expect((await t.http.get('/v1/faults').expect(200)).body.items).toHaveLength(0);
  });

  it('firstByteDelay: the first reply waits that long, the next ones do not', async () => {
    const proxy = await proxyWith([{ type: 'firstByteDelay', direction: 'toPeer', attributes: { ms: 200 } }]);
    const client = await TcpPeer.connect(proxy.port);
    let started = performance.now();
    await client.write('a');
    await client.receive(1);
    expect(performance.now() - started).toBeGreaterThanOrEqual(199);
    started = performance.now();
    await client.write('b');
    await client.receive(2);
    expect(performance.now() - started).toBeLessThan(100);
    await removeProxy(proxy.id);
    await client.whenClosed();
  });

  it('slice: a reply comes in pieces of averageBytes, delayMs apart', async () => {
    const proxy = await proxyWith([{ type: 'slice', direction: 'toPeer', attributes: { averageBytes: 10, delayMs: 20 } }]);
    const client = await TcpPeer.connect(proxy.port);
    const pieces: number[] = [];
    client.socket.on('data', (chunk: Buffer) => pieces.push(chunk.length));
    const started = performance.now();
    await client.write('x'.repeat(100));
    await client.receive(100);
    expect(performance.now() - started).toBeGreaterThanOrEqual(175);
    // Pieces 20 ms apart can still be read together when the test process is busy; most are not.
    expect(pieces.length).toBeGreaterThanOrEqual(5);
    await removeProxy(proxy.id);
    await client.whenClosed();
  });

  it('blackhole after 3 bytes: later bytes vanish and the connection stays open; once the fault is removed bytes pass again', async () => {
    const proxy = await proxyWith([{ type: 'blackhole', direction: 'fromPeer', trigger: { afterBytes: 3 } }]);
    const client = await TcpPeer.connect(proxy.port);
    await client.write('abc');
    await client.receive(3);
    await client.write('def');
    const fault = (await t.http.get('/v1/faults').query({ target: proxy.id }).expect(200)).body.items[0];
    await eventually(async () => expect((await t.http.get(`/v1/faults/${fault.id}`).expect(200)).body).toMatchObject({ triggered: 1 }));
    const clientHalf = (await t.http.get(`/v1/tcp/proxies/${proxy.id}`).expect(200)).body.pairs[0].clientConnectionId;
    await eventually(async () => expect((await t.http.get(`/v1/tcp/connections/${clientHalf}`).expect(200)).body.counters.bytesIn).toBe(6));
    await t.http.delete(`/v1/faults/${fault.id}`).expect(200);
    await client.write('ghi');
    expect((await client.receive(6)).toString()).toBe('abcghi');
    expect(client.closed).toBe(false);
    await removeProxy(proxy.id);
    await client.whenClosed();
  });

  it('slowClose: when the upstream closes, the client’s half closes that much later', async () => {
    const proxy = await proxyWith([{ type: 'slowClose', attributes: { delayMs: 200 } }]);
    const client = await TcpPeer.connect(proxy.port);
    await client.write('x');
    await client.receive(1);
    const started = performance.now();
    for (const socket of echo.sockets) socket.destroy();
    await client.whenClosed();
    expect(performance.now() - started).toBeGreaterThanOrEqual(195);
    await removeProxy(proxy.id);
  });

  it('corrupt with probability 1 flips exactly one bit of every byte', async () => {
    const proxy = await proxyWith([{ type: 'corrupt', direction: 'toPeer', attributes: { probability: 1 } }]);
    const client = await TcpPeer.connect(proxy.port);
    const sent = Buffer.from('corrupt me, please');
    await client.write(sent);
    const got = await client.receive(sent.length);
    for (let i = 0; i < sent.length; i++) expect((sent[i] ^ got[i]).toString(2).replace(/0/g, '')).toBe('1');
    await removeProxy(proxy.id);
    await client.whenClosed();
  });

  it('a latency fault on a listener applies to the connections it accepts; PATCH changes it in place', async () => {
    const listener = (await t.http.post('/v1/tcp/listeners').send({ host: '127.0.0.1', port: 0, mode: 'echo' }).expect(201)).body;
    const fault = (await t.http.post('/v1/faults').send({ target: listener.id, type: 'latency', direction: 'toPeer', attributes: { ms: 100 } }).expect(201)).body;
    expect(fault).toMatchObject({ target: listener.id, type: 'latency', attributes: { ms: 100, jitterMs: 0 }, state: 'active' });
    expect(await echoRoundTrip(listener.local.port)).toBeGreaterThanOrEqual(100);
    await t.http.patch(`/v1/faults/${fault.id}`).send({ attributes: { ms: 0 } }).expect(200, /"ms":0/);
    expect(await echoRoundTrip(listener.local.port)).toBeLessThan(100);
    expect((await t.http.get(`/v1/faults/${fault.id}`).expect(200)).body.applied).toBe(2);
    const metrics = (await t.http.get('/metrics').expect(200)).text;
    expect(metrics).toContain(`sockplane_fault_events_total{fault="${fault.id}",type="latency",event="applied"} 2`);
    await t.http.delete(`/v1/tcp/listeners/${listener.id}?closeConnections=true`).expect(200);
    await t.http.get(`/v1/faults/${fault.id}`).expect(404, /FAULT_NOT_FOUND/);
  });

  it('the same seed selects the same connections, run after run; edits never roll again', async () => {
    const listener = (await t.http.post('/v1/tcp/listeners').send({ host: '127.0.0.1', port: 0, mode: 'echo' }).expect(201)).body;
    const pattern = async (): Promise<boolean[]> => {
      const fault = (await t.http.post('/v1/faults').send({ target: listener.id, type: 'latency', attributes: { ms: 0 }, select: { probability: 0.5, seed: 1234 } }).expect(201)).body;
      const clients = await Promise.all(Array.from({ length: 12 }, () => TcpPeer.connect(listener.local.port)));
      const accepted = await eventually(async () => {
        const page = await t.http.get(`/v1/tcp/listeners/${listener.id}/connections`).query({ after: 0, limit: 1000 }).expect(200);
        const open = page.body.items.filter((c: { state: string }) => c.state === 'open');
        expect(open).toHaveLength(12);
        return open as { id: string }[];
      });
      const on = new Set<string>((await t.http.patch(`/v1/faults/${fault.id}`).send({ probability: 1 }).expect(200)).body.connections);
      await t.http.delete(`/v1/faults/${fault.id}`).expect(200);
      await Promise.all(clients.map(async (client) => {
        client.socket.end();
        await client.whenClosed();
      }));
      await Promise.all(accepted.map((c) => t.http.delete(`/v1/tcp/connections/${c.id}`)));
      return accepted.map((c) => on.has(c.id));
    };
    const first = await pattern();
    const second = await pattern();
    expect(second).toEqual(first);
    expect(first.filter(Boolean).length).toBeGreaterThan(0);
    expect(first.filter(Boolean).length).toBeLessThan(12);
    await t.http.delete(`/v1/tcp/listeners/${listener.id}?closeConnections=true`).expect(200);
  });

  it('PUT /v1/faults replaces them all, idempotently; expiresAfterMs removes a fault by itself', async () => {
    const listener = (await t.http.post('/v1/tcp/listeners').send({ host: '127.0.0.1', port: 0, mode: 'echo' }).expect(201)).body;
    const list = { faults: [{ target: listener.id, name: 'slow', type: 'latency', attributes: { ms: 50 }, select: { seed: 9 } }] };
    const once = await t.http.put('/v1/faults').send(list).expect(200);
    const twice = await t.http.put('/v1/faults').send(list).expect(200);
    expect(twice.body.items).toHaveLength(1);
    const sameness = (fault: Record<string, unknown>) => ({ ...fault, id: undefined, createdAt: undefined, updatedAt: undefined, connections: undefined });
    expect(sameness(twice.body.items[0])).toEqual(sameness(once.body.items[0]));
    expect((await t.http.get('/v1/faults').expect(200)).body.items).toHaveLength(1);
    await t.http.put('/v1/faults').send({ faults: [] }).expect(200, { items: [] });

    const expiring = (await t.http.post('/v1/faults').send({ target: listener.id, type: 'latency', attributes: { ms: 10 }, expiresAfterMs: 50 }).expect(201)).body;
    expect(expiring.expiresAt).not.toBeNull();
    await eventually(() => t.http.get(`/v1/faults/${expiring.id}`).expect(404));
    await t.http.delete(`/v1/tcp/listeners/${listener.id}`).expect(200);
  });

  it('bad faults answer 4xx with a clear code, and nothing is created', async () => {
    const listener = (await t.http.post('/v1/tcp/listeners').send({ host: '127.0.0.1', port: 0, mode: 'buffer' }).expect(201)).body;
    const conn = (await t.http.post('/v1/tcp/connections').send({ host: '127.0.0.1', port: listener.local.port }).expect(201)).body;
    const cases: [Record<string, unknown>, number, string, string][] = [
      [{ target: 'tp_000099deadbeef00', type: 'latency', attributes: { ms: 1 } }, 404, 'FAULT_TARGET_NOT_FOUND', 'no TCP proxy, UDP proxy, listener or open connection'],
      [{ target: 'no-such-proxy', type: 'latency', attributes: { ms: 1 } }, 404, 'FAULT_TARGET_NOT_FOUND', 'no-such-proxy'],
      [{ target: 'not an id!', type: 'latency', attributes: { ms: 1 } }, 400, 'VALIDATION_FAILED', 'target must be'],
      [{ target: listener.id, type: 'latency', attributes: { ms: -5 } }, 400, 'VALIDATION_FAILED', 'attributes.ms: ms must be a whole number from 0 to 3600000'],
      [{ target: listener.id, type: 'latency', attributes: { ms: 1e12 } }, 400, 'VALIDATION_FAILED', 'attributes.ms'],
      [{ target: listener.id, type: 'latency', attributes: { ms: 1, speed: 3 } }, 400, 'VALIDATION_FAILED', 'latency takes no attribute speed'],
      [{ target: listener.id, type: 'latency' }, 400, 'VALIDATION_FAILED', 'latency needs ms'],
      [{ target: listener.id, type: 'bandwidth', attributes: { bytesPerSecond: 0 } }, 400, 'VALIDATION_FAILED', 'bytesPerSecond'],
      [{ target: listener.id, type: 'corrupt', attributes: { probability: 2 } }, 400, 'VALIDATION_FAILED', 'must be a number from 0 to 1'],
      [{ target: listener.id, type: 'teleport' }, 400, 'VALIDATION_FAILED', 'type'],
      [{ target: listener.id, type: 'latency', attributes: { ms: 1 }, select: { remoteCidr: '10.0.0.0/99' } }, 400, 'VALIDATION_FAILED', 'remoteCidr'],
      [{ target: conn.id, type: 'refuse' }, 400, 'FAULT_NOT_APPLICABLE', 'target a listener or a proxy'],
    ];
    for (const [body, status, code, detail] of cases) {
      const answer = await t.http.post('/v1/faults').send(body).expect(status);
      expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(answer.body).toMatchObject({ code, detail: expect.stringContaining(detail) });
    }
    await t.http.put('/v1/faults').send({ faults: [{ target: listener.id, type: 'latency', attributes: { ms: 1 } }, { target: 'tl_000099deadbeef00', type: 'refuse' }] }).expect(404);
    expect((await t.http.get('/v1/faults').expect(200)).body.items).toHaveLength(0);
    await t.http.delete(`/v1/tcp/listeners/${listener.id}?closeConnections=true`).expect(200);
    await t.http.delete(`/v1/tcp/connections/${conn.id}`).expect(200);
  });
});
