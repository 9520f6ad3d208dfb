import { loadConfig } from '../../src/config/app-config';
import { SseClient } from '../support/sse-client';
import { TcpPeer, UdpPeer } from '../support/peers';
import { TestApp, startTestApp } from '../support/test-app';

const ALICE = 'alice-secret-0123456789';
const BOB = 'bob-secret-0123456789';
const ADMIN = 'ops-secret-0123456789';
const KEYS = `alice:${ALICE},bob:${BOB},ops:${ADMIN}:admin`;

const bearer = (secret: string): Record<string, string> => ({ authorization: `Bearer ${secret}` });

describe('authentication off (no keys, loopback)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('serves /v1 without a key, and ignores one that is sent', async () => {
    await t.http.get('/v1/limits').expect(200);
    await t.http.get('/v1/tcp/listeners').set(bearer('anything-at-all-0123')).expect(200);
  });

  it('refuses to start on a non-loopback HOST unless told to', () => {
    expect(() => loadConfig({ HOST: '0.0.0.0' })).toThrow(/SOCKPLANE_API_KEYS/);
    expect(loadConfig({ HOST: '0.0.0.0', SOCKPLANE_ALLOW_UNAUTHENTICATED: 'true' }).host).toBe('0.0.0.0');
  });
});

describe('authentication on', () => {
  let t: TestApp;
  let port: number;
  const peers: TcpPeer[] = [];

  beforeAll(async () => {
    t = await startTestApp({ SOCKPLANE_API_KEYS: KEYS });
    port = await t.listen();
  });
  afterAll(async () => {
    for (const peer of peers) peer.socket.destroy();
    await t.close();
  });

  it.each([
    ['no Authorization header', {}, 'Bearer realm="sockplane"'],
    ['an unknown key', bearer('mallory-secret-0123456789'), 'Bearer realm="sockplane", error="invalid_token"'],
    ['a key one character short', bearer(ALICE.slice(0, -1)), 'Bearer realm="sockplane", error="invalid_token"'],
    ['the key in another case', bearer(ALICE.toUpperCase()), 'Bearer realm="sockplane", error="invalid_token"'],
    ['Basic authentication', { authorization: `Basic ${Buffer.from(`alice:${ALICE}`).toString('base64')}` }, 'Bearer realm="sockplane", error="invalid_token"'],
    ['the scheme without a key', { authorization: 'Bearer' }, 'Bearer realm="sockplane", error="invalid_token"'],
    ['the key without the scheme', { authorization: ALICE }, 'Bearer realm="sockplane", error="invalid_token"'],
    ['a key with a space in it', { authorization: `Bearer ${ALICE} x` }, 'Bearer realm="sockplane", error="invalid_token"'],
    ['an absurdly long key', bearer('x'.repeat(4096)), 'Bearer realm="sockplane", error="invalid_token"'],
  ])('answers 401 problem+json with WWW-Authenticate for %s', async (_, headers, challenge) => {
    for (const [method, path] of [
      ['get', '/v1/limits'],
      ['get', '/v1/tcp/listeners'],
      ['post', '/v1/tcp/connections'],
      ['get', '/v1/udp/sockets/us_000001a1b2c3d4e5'],
      ['delete', '/v1/tcp/listeners/tl_000001a1b2c3d4e5'],
      ['get', '/v1/events'],
    ] as const) {
      const res = await t.http[method](path).set(headers);
      expect({ path, status: res.status, code: res.body.code, challenge: res.headers['www-authenticate'] }).toEqual({ path, status: 401, code: 'UNAUTHORIZED', challenge });
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
  });

  it('accepts the scheme in any case', async () => {
    await t.http.get('/v1/limits').set({ authorization: `bearer ${ALICE}` }).expect(200);
  });

  it('leaves health and the docs open', async () => {
    await t.http.get('/health/live').expect(200);
    await t.http.get('/docs-json').expect(200);
  });

  it("keeps each key's sockets its own across every endpoint; an admin key sees them all", async () => {
    const as = (secret: string) => ({
      get: (path: string) => t.http.get(path).set(bearer(secret)),
      post: (path: string) => t.http.post(path).set(bearer(secret)),
      delete: (path: string) => t.http.delete(path).set(bearer(secret)),
    });
    const alice = as(ALICE);
    const bob = as(BOB);
    const admin = as(ADMIN);
    const aliceEvents = await SseClient.open(port, '/v1/events', bearer(ALICE));
    const bobEvents = await SseClient.open(port, '/v1/events', bearer(BOB));
    const adminEvents = await SseClient.open(port, '/v1/events', bearer(ADMIN));
    try {
      // Alice: a listener, a peer connected to it (inbound), an outbound connection to it, a UDP socket.
      const listener = (await alice.post('/v1/tcp/listeners').send({ port: 0 }).expect(201)).body;
      const peer = await TcpPeer.connect(listener.local.port);
      peers.push(peer);
      await peer.write('hello');
      const accepted = (await alice.get(`/v1/tcp/listeners/${listener.id}/connections`).query({ waitMs: 5000 }).expect(200)).body.items[0];
      const outbound = (await alice.post('/v1/tcp/connections').send({ host: '127.0.0.1', port: listener.local.port }).expect(201)).body;
      const udp = (await alice.post('/v1/udp/sockets').send({}).expect(201)).body;
      const target = await UdpPeer.bind();

      // Bob sees none of it: lists are empty, and every id answers 404 as if it did not exist.
      for (const path of ['/v1/tcp/listeners', '/v1/tcp/connections', '/v1/udp/sockets']) {
        expect((await bob.get(path).expect(200)).body.items).toEqual([]);
      }
      const notFound = [
        bob.get(`/v1/tcp/listeners/${listener.id}`),
        bob.get(`/v1/tcp/listeners/${listener.id}/connections`),
        bob.get(`/v1/tcp/listeners/${listener.id}/connections`).query({ waitMs: 50 }),
        bob.delete(`/v1/tcp/listeners/${listener.id}`),
        bob.get(`/v1/tcp/connections/${accepted.id}`),
        bob.get(`/v1/tcp/connections/${accepted.id}/buffer`),
        bob.get(`/v1/tcp/connections/${accepted.id}/buffer`).query({ waitMs: 50 }),
        bob.delete(`/v1/tcp/connections/${accepted.id}/buffer`).query({ upTo: 0 }),
        bob.post(`/v1/tcp/connections/${accepted.id}/send`).send({ data: 'from bob' }),
        bob.post(`/v1/tcp/connections/${outbound.id}/send`).set('content-type', 'application/octet-stream').send(Buffer.from('raw')),
        bob.delete(`/v1/tcp/connections/${outbound.id}`),
        bob.get(`/v1/udp/sockets/${udp.id}`),
        bob.post(`/v1/udp/sockets/${udp.id}/send`).send({ host: '127.0.0.1', port: target.port, data: 'from bob' }),
        bob.get(`/v1/udp/sockets/${udp.id}/datagrams`),
        bob.delete(`/v1/udp/sockets/${udp.id}/datagrams`).query({ upTo: 0 }),
        bob.delete(`/v1/udp/sockets/${udp.id}`),
      ];
      const answers = await Promise.all(notFound);
      answers.forEach((res, call) => {
        expect({ call, status: res.status, code: res.body.code }).toEqual({ call, status: 404, code: 'SOCKET_NOT_FOUND' });
      });
      expect(target.received).toEqual([]);
      expect(peer.received.length).toBe(0);

      // Bob's own listener is his; his event stream shows it and nothing of Alice's.
      const bobs = (await bob.post('/v1/tcp/listeners').send({ port: 0 }).expect(201)).body;
      await bobEvents.waitFor((m) => m.json.resourceId === bobs.id);
      const aliceIds = new Set([listener.id, accepted.id, outbound.id, udp.id]);
      expect(bobEvents.events().filter((e) => aliceIds.has(e.resourceId as string))).toEqual([]);
      await aliceEvents.waitFor((m) => m.json.resourceId === udp.id);
      expect(aliceEvents.events().filter((e) => e.resourceId === bobs.id)).toEqual([]);
      await adminEvents.waitFor((m) => m.json.resourceId === bobs.id);
      expect(adminEvents.events().some((e) => e.resourceId === udp.id)).toBe(true);

      // The admin key lists and acts on everyone's sockets; Alice's still work for Alice.
      const all = (await admin.get('/v1/tcp/listeners').expect(200)).body.items.map((l: { id: string }) => l.id);
      expect(all).toEqual(expect.arrayContaining([listener.id, bobs.id]));
      expect((await alice.get(`/v1/tcp/connections/${accepted.id}/buffer`).query({ minBytes: 5, waitMs: 5000 }).expect(200)).body.data).toBe('hello');
      await alice.post(`/v1/udp/sockets/${udp.id}/send`).send({ host: '127.0.0.1', port: target.port, data: 'from alice' }).expect(200);
      expect((await target.receive(1))[0].data.toString()).toBe('from alice');
      await admin.delete(`/v1/tcp/listeners/${bobs.id}`).expect(200);
      await admin.delete(`/v1/tcp/connections/${outbound.id}`).expect(200);
      await alice.delete(`/v1/tcp/listeners/${listener.id}`).query({ closeConnections: true }).expect(200);
      await alice.delete(`/v1/udp/sockets/${udp.id}`).expect(200);
      await target.close();

      // /v1/limits counts the caller's own sockets, and an admin's counts every socket.
      const bobListener = (await bob.post('/v1/tcp/listeners').send({ port: 0 }).expect(201)).body;
      expect((await bob.get('/v1/limits').expect(200)).body.quotas.socketsPerKey.used).toBe(1);
      expect((await alice.get('/v1/limits').expect(200)).body.quotas.socketsPerKey.used).toBe(0);
      await bob.delete(`/v1/tcp/listeners/${bobListener.id}`).expect(200);
    } finally {
      for (const stream of [aliceEvents, bobEvents, adminEvents]) stream.close();
    }
  });
});
