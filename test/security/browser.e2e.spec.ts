import { once } from 'node:events';
import { AddressInfo, createServer } from 'node:net';
import { TestApp, rawBytes, startTestApp } from '../support/test-app';

describe('browser-borne attacks', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ SOCKPLANE_ALLOWED_HOSTS: 'sockplane.internal' });
  });
  afterAll(() => t.close());

  it.each(['evil.example', 'evil.example:3000', '127.0.0.1.evil.example', 'localhost.evil.example', '[::2]:3000', '10.0.0.1', 'localhost:80:80', ''])(
    'answers 421 HOST_NOT_ALLOWED to Host %j (DNS rebinding)',
    async (host) => {
      for (const request of [t.http.get('/v1/tcp/listeners'), t.http.post('/v1/udp/sockets').send({}), t.http.get('/docs-json')]) {
        const res = await request.set('host', host);
        expect({ host, status: res.status, code: res.body.code }).toEqual({ host, status: 421, code: 'HOST_NOT_ALLOWED' });
      }
    },
  );

  it.each(['localhost', 'localhost:3000', '127.0.0.1:49152', '[::1]:8080', '[::1]', 'LOCALHOST', 'sockplane.internal', 'sockplane.internal:443'])(
    'answers Host %j',
    async (host) => {
      await t.http.get('/v1/tcp/listeners').set('host', host).expect(200);
    },
  );

  it('answers its HOST address when that is another loopback address, by a client that connects to it', async () => {
    const other = await startTestApp({ HOST: '127.0.0.2' });
    try {
      await other.app.listen(0, '127.0.0.2');
      const { port } = other.app.getHttpServer().address() as AddressInfo;
      const res = await fetch(`http://127.0.0.2:${port}/v1/tcp/listeners`);
      expect(res.status).toBe(200);
    } finally {
      await other.close();
    }
  });

  it('keeps health and metrics reachable whatever the Host, for probes', async () => {
    await t.http.get('/health/live').set('host', '10.1.2.3:3000').expect(200);
  });

  it.each([
    ['text/plain', 'hello'],
    ['application/x-www-form-urlencoded', 'host=127.0.0.1&port=1'],
    ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--'],
  ])('answers 415 to a %s body, which a page can send without a preflight', async (type, body) => {
    for (const path of ['/v1/tcp/listeners', '/v1/udp/sockets', '/v1/tcp/connections']) {
      const res = await t.http.post(path).set('content-type', type).send(body);
      expect({ path, status: res.status, code: res.body.code }).toEqual({ path, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
    }
  });

  it('refuses a cross-site state change from a browser (Fetch Metadata), and lets same-origin ones through', async () => {
    const cross = await t.http.post('/v1/udp/sockets').set({ 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }).send({});
    expect({ status: cross.status, code: cross.body.code }).toEqual({ status: 403, code: 'CROSS_ORIGIN_DENIED' });
    const noMetadata = await t.http.delete('/v1/udp/sockets/us_000001a1b2c3d4e5').set({ origin: 'https://evil.example' });
    expect({ status: noMetadata.status, code: noMetadata.body.code }).toEqual({ status: 403, code: 'CROSS_ORIGIN_DENIED' });
    const same = await t.http.post('/v1/udp/sockets').set({ 'sec-fetch-site': 'same-origin' }).send({}).expect(201);
    await t.http.delete(`/v1/udp/sockets/${same.body.id}`).expect(200);
  });

  it('sends no CORS headers unless origins are configured', async () => {
    const res = await t.http.options('/v1/tcp/listeners').set({ origin: 'https://evil.example', 'access-control-request-method': 'POST' });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const get = await t.http.get('/v1/tcp/listeners').set({ origin: 'https://evil.example' }).expect(200);
    expect(get.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('sends security headers on answers and errors alike', async () => {
    for (const res of [await t.http.get('/v1/tcp/listeners'), await t.http.get('/v1/tcp/listeners/tl_nope')]) {
      expect(res.headers).toMatchObject({ 'x-content-type-options': 'nosniff', 'x-frame-options': 'SAMEORIGIN' });
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    }
  });
});

describe('CORS for configured origins', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ SOCKPLANE_CORS_ORIGINS: 'https://tool.example' });
  });
  afterAll(() => t.close());

  it('answers the preflight and the call for a listed origin only, and trusts it for state changes', async () => {
    const preflight = await t.http
      .options('/v1/udp/sockets')
      .set({ origin: 'https://tool.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' });
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://tool.example');
    expect(preflight.headers['access-control-allow-headers']).toContain('authorization');
    const created = await t.http.post('/v1/udp/sockets').set({ origin: 'https://tool.example', 'sec-fetch-site': 'cross-site' }).send({}).expect(201);
    expect(created.headers['access-control-allow-origin']).toBe('https://tool.example');
    await t.http.delete(`/v1/udp/sockets/${created.body.id}`).expect(200);
    const other = await t.http.options('/v1/udp/sockets').set({ origin: 'https://evil.example', 'access-control-request-method': 'POST' });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('lets a listed origin read raw bytes and see the offsets in their headers', async () => {
    const peer = createServer((socket) => socket.end('raw bytes'));
    peer.listen(0, '127.0.0.1');
    await once(peer, 'listening');
    const { port } = peer.address() as AddressInfo;
    const connected = await t.http.post('/v1/tcp/connections').send({ host: '127.0.0.1', port }).expect(201);
    const path = `/v1/tcp/connections/${connected.body.id}/buffer`;
    await t.http.get(path).query({ waitMs: 5000, minBytes: 9 }).expect(200);
    const raw = await t.http.get(path).set({ origin: 'https://tool.example', accept: 'application/octet-stream' }).buffer(true).parse(rawBytes).expect(200);
    expect(raw.body).toEqual(Buffer.from('raw bytes'));
    expect(raw.headers['access-control-allow-origin']).toBe('https://tool.example');
    expect(raw.headers['access-control-expose-headers']).toContain('sockplane-next-offset');
    await t.http.delete(`/v1/tcp/connections/${connected.body.id}`).expect(200);
    peer.close();
  });
});
