import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { request } from 'node:http';
import { AddressInfo, Socket, connect, createServer } from 'node:net';
import { Response } from 'supertest';
import { SseClient } from '../support/sse-client';
import { TcpPeer, UdpPeer, eventually } from '../support/peers';
import { startTestApp } from '../support/test-app';

/** POSTs `chunks` as an octet-stream body in chunked transfer encoding (no Content-Length). */
function sendChunked(port: number, path: string, chunks: Buffer[]): Promise<{ status: number; body: { bytesSent?: number; code?: string } }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/octet-stream' } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(parts).toString('utf8')) }));
    });
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

function expectQuota(res: Response, limit: string): void {
  expect({ status: res.status, code: res.body.code, limit: res.body.limit }).toEqual({ status: 429, code: 'QUOTA_EXCEEDED', limit });
}

describe('quotas', () => {
  const peers: TcpPeer[] = [];
  afterAll(() => peers.forEach((p) => p.socket.destroy()));

  it('sockets in total: the next one answers 429 naming maxSockets, and closing one makes room', async () => {
    const t = await startTestApp({ SOCKPLANE_MAX_SOCKETS: '3' });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await t.http.post('/v1/udp/sockets').send({}).expect(201)).body.id);
      expectQuota(await t.http.post('/v1/tcp/listeners').send({}), 'maxSockets');
      expect((await t.http.get('/v1/limits').expect(200)).body.quotas.sockets).toEqual({ limit: 3, used: 3, setting: 'SOCKPLANE_MAX_SOCKETS' });
      await t.http.delete(`/v1/udp/sockets/${ids[0]}`).expect(200);
      await t.http.post('/v1/tcp/listeners').send({}).expect(201);
    } finally {
      await t.close();
    }
  });

  it('sockets per key: one key reaching its limit leaves the others alone; accepted connections count and are reset past it', async () => {
    const t = await startTestApp({ SOCKPLANE_API_KEYS: 'alice:alice-secret-0123456789,bob:bob-secret-0123456789', SOCKPLANE_MAX_SOCKETS_PER_KEY: '2' });
    const alice = { authorization: 'Bearer alice-secret-0123456789' };
    const bob = { authorization: 'Bearer bob-secret-0123456789' };
    try {
      const listener = (await t.http.post('/v1/tcp/listeners').set(alice).send({}).expect(201)).body;
      const first = await TcpPeer.connect(listener.local.port);
      peers.push(first);
      await t.http.get(`/v1/tcp/listeners/${listener.id}/connections`).set(alice).query({ waitMs: 5000 }).expect(200);
      expectQuota(await t.http.post('/v1/udp/sockets').set(alice).send({}), 'maxSocketsPerKey');
      // The listener still accepts at the TCP level, but the connection is reset and counted.
      const second = connect(listener.local.port, '127.0.0.1');
      // The reset is the expected outcome: `once` would reject on the error, so wait for close by hand.
      second.on('error', () => undefined);
      await new Promise((resolve) => second.once('close', resolve));
      expect((await t.http.get(`/v1/tcp/listeners/${listener.id}`).set(alice).expect(200)).body.counters).toMatchObject({ accepted: 2, dropped: 1, active: 1 });
      // Bob is not affected.
      const bobs = (await t.http.post('/v1/udp/sockets').set(bob).send({}).expect(201)).body;
      expect((await t.http.get('/v1/limits').set(bob).expect(200)).body.quotas.socketsPerKey).toEqual({ limit: 2, used: 1, setting: 'SOCKPLANE_MAX_SOCKETS_PER_KEY' });
      // Released when Alice's sockets close.
      await t.http.delete(`/v1/tcp/listeners/${listener.id}`).set(alice).query({ closeConnections: true }).expect(200);
      await t.http.post('/v1/udp/sockets').set(alice).send({}).expect(201);
      await t.http.delete(`/v1/udp/sockets/${bobs.id}`).set(bob).expect(200);
    } finally {
      await t.close();
    }
  });

  it('a UDP proxy and each client’s upstream socket count in the quotas: past them a new client’s datagrams are dropped and counted, and closing the proxy gives every place back', async () => {
    const t = await startTestApp({ SOCKPLANE_API_KEYS: 'alice:alice-secret-0123456789', SOCKPLANE_MAX_SOCKETS_PER_KEY: '3' });
    const alice = { authorization: 'Bearer alice-secret-0123456789' };
    const [upstream, first, second] = await Promise.all([UdpPeer.bind(), UdpPeer.bind(), UdpPeer.bind()]);
    const used = async (): Promise<number> => (await t.http.get('/v1/limits').set(alice).expect(200)).body.quotas.socketsPerKey.used;
    try {
      await t.http.post('/v1/udp/sockets').set(alice).send({}).expect(201);
      const proxy = (await t.http.post('/v1/udp/proxies').set(alice).send({ listen: { port: 0 }, upstream: { host: '127.0.0.1', port: upstream.port } }).expect(201)).body;
      expect(await used()).toBe(2);
      await first.send('one', proxy.listen.port);
      expect((await upstream.receive(1))[0].data.toString()).toBe('one');
      expect(await used()).toBe(3);
      await second.send('two', proxy.listen.port);
      await eventually(async () => expect((await t.http.get(`/v1/udp/proxies/${proxy.id}`).set(alice).expect(200)).body.counters).toMatchObject({ datagramsIn: 2, relayedUp: 1, clientsRefused: 1 }));
      expectQuota(await t.http.post('/v1/udp/sockets').set(alice).send({}), 'maxSocketsPerKey');
      expectQuota(await t.http.post('/v1/udp/proxies').set(alice).send({ listen: { port: 0 }, upstream: { host: '127.0.0.1', port: upstream.port } }), 'maxSocketsPerKey');
      await t.http.delete(`/v1/udp/proxies/${proxy.id}`).set(alice).expect(200);
      expect(await used()).toBe(1);
      expect(upstream.received.map((d) => d.data.toString())).toEqual(['one']);
    } finally {
      await Promise.all([upstream.close(), first.close(), second.close()]);
      await t.close();
    }
  });

  it('long-polls: past the limit a waiting read answers 429 naming maxLongPolls; reads without waitMs still work; freed when they answer', async () => {
    const t = await startTestApp({ SOCKPLANE_MAX_LONG_POLLS: '2' });
    try {
      const socket = (await t.http.post('/v1/udp/sockets').send({}).expect(201)).body;
      const read = (): Promise<Response> => t.http.get(`/v1/udp/sockets/${socket.id}/datagrams`).query({ waitMs: 20_000 }).then((r) => r);
      const waiting = [read(), read()];
      await eventually(async () => expect((await t.http.get('/v1/limits').expect(200)).body.quotas.longPolls).toMatchObject({ limit: 2, used: 2 }));
      expectQuota(await read(), 'maxLongPolls');
      const listener = (await t.http.post('/v1/tcp/listeners').send({}).expect(201)).body;
      expectQuota(await t.http.get(`/v1/tcp/listeners/${listener.id}/connections`).query({ waitMs: 20_000 }), 'maxLongPolls');
      await t.http.get(`/v1/udp/sockets/${socket.id}/datagrams`).expect(200);
      // A datagram answers both waiting reads, which frees their slots.
      await t.http.post(`/v1/udp/sockets/${socket.id}/send`).send({ host: '127.0.0.1', port: socket.local.port, data: 'wake up' }).expect(200);
      for (const res of await Promise.all(waiting)) expect(res.body.datagrams[0].data).toBe('wake up');
      expect((await t.http.get('/v1/limits').expect(200)).body.quotas.longPolls.used).toBe(0);
      expect((await read()).status).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('event streams: one more than allowed answers 429 naming maxEventStreams', async () => {
    const t = await startTestApp({ SOCKPLANE_MAX_EVENT_STREAMS: '1' });
    const port = await t.listen();
    const first = await SseClient.open(port, '/v1/events');
    try {
      expect(first.status).toBe(200);
      expectQuota(await t.http.get('/v1/events'), 'maxEventStreams');
      first.close();
      await eventually(async () => expect((await t.http.get('/v1/limits').expect(200)).body.quotas.eventStreams.used).toBe(0));
      const again = await SseClient.open(port, '/v1/events');
      expect(again.status).toBe(200);
      again.close();
    } finally {
      first.close();
      await t.close();
    }
  });

  it('request bodies: larger than SOCKPLANE_BODY_LIMIT_BYTES answers 413, JSON and raw alike', async () => {
    const t = await startTestApp({ SOCKPLANE_BODY_LIMIT_BYTES: '2048' });
    try {
      const socket = (await t.http.post('/v1/udp/sockets').send({}).expect(201)).body;
      const json = await t.http.post(`/v1/udp/sockets/${socket.id}/send`).send({ host: '127.0.0.1', port: socket.local.port, data: 'x'.repeat(4096) });
      expect({ status: json.status, code: json.body.code }).toEqual({ status: 413, code: 'BODY_TOO_LARGE' });
      const raw = await t.http
        .post(`/v1/udp/sockets/${socket.id}/send`)
        .query({ host: '127.0.0.1', port: socket.local.port })
        .set('content-type', 'application/octet-stream')
        .send(Buffer.alloc(4096));
      expect({ status: raw.status, code: raw.body.code }).toEqual({ status: 413, code: 'BODY_TOO_LARGE' });
      await t.http.post(`/v1/udp/sockets/${socket.id}/send`).send({ host: '127.0.0.1', port: socket.local.port, data: 'small' }).expect(200);
      expect((await t.http.get('/v1/limits').expect(200)).body.perRequest.bodyBytes).toBe(2048);
    } finally {
      await t.close();
    }
  });

  it('raw bodies sent without a Content-Length (chunked) are held to the limit too; within it they reach the peer whole', async () => {
    const t = await startTestApp({ SOCKPLANE_BODY_LIMIT_BYTES: String(64 * 1024) });
    const peerServer = createServer();
    try {
      peerServer.listen(0, '127.0.0.1');
      await once(peerServer, 'listening');
      const accepted = once(peerServer, 'connection') as Promise<[Socket]>;
      const port = await t.listen();
      const conn = (await t.http.post('/v1/tcp/connections').send({ host: '127.0.0.1', port: (peerServer.address() as AddressInfo).port }).expect(201)).body;
      const [remote] = await accepted;
      const received: Buffer[] = [];
      remote.on('data', (chunk: Buffer) => received.push(chunk));
      const ended = once(remote, 'end');
      const chunks = Array.from({ length: 16 }, () => randomBytes(4096));
      const within = await sendChunked(port, `/v1/tcp/connections/${conn.id}/send`, chunks);
      expect({ status: within.status, bytesSent: within.body.bytesSent }).toEqual({ status: 200, bytesSent: 16 * 4096 });
      // The 413 closes the HTTP connection with the body's tail unread, so the client may see a
      // reset before the answer; either way nothing of this body may reach the peer.
      const over = await sendChunked(port, `/v1/tcp/connections/${conn.id}/send`, [...chunks, Buffer.alloc(1)]).then(
        (res) => ({ status: res.status, code: res.body.code }),
        (err: NodeJS.ErrnoException) => ({ reset: err.code }),
      );
      expect([{ status: 413, code: 'BODY_TOO_LARGE' }, { reset: 'ECONNRESET' }, { reset: 'EPIPE' }]).toContainEqual(over);
      await t.http.delete(`/v1/tcp/connections/${conn.id}`).expect(200);
      await ended;
      expect(Buffer.concat(received)).toEqual(Buffer.concat(chunks));
    } finally {
      peerServer.close();
      await t.close();
    }
  });

  it('waitMs: a long-poll never waits longer than SOCKPLANE_MAX_WAIT_MS', async () => {
    const t = await startTestApp({ SOCKPLANE_MAX_WAIT_MS: '100' });
    try {
      const socket = (await t.http.post('/v1/udp/sockets').send({}).expect(201)).body;
      const started = Date.now();
      const res = await t.http.get(`/v1/udp/sockets/${socket.id}/datagrams`).query({ waitMs: 60_000 }).expect(200);
      expect(res.body.datagrams).toEqual([]);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await t.close();
    }
  });

  it('bytes held in total: connections pause at the shared cap, nothing is lost, and releases resume them', async () => {
    const KiB = 1024;
    const t = await startTestApp({ SOCKPLANE_MAX_TOTAL_BUFFERED_BYTES: String(64 * KiB), SOCKPLANE_MAX_BUFFERED_BYTES: String(1024 * KiB) });
    try {
      const listener = (await t.http.post('/v1/tcp/listeners').send({}).expect(201)).body;
      const payloads = [Buffer.alloc(300 * KiB, 0x61), Buffer.alloc(300 * KiB, 0x62)];
      const writers = await Promise.all(payloads.map(() => TcpPeer.connect(listener.local.port)));
      peers.push(...writers);
      const connections = (await t.http.get(`/v1/tcp/listeners/${listener.id}/connections`).query({ waitMs: 5000 }).expect(200)).body.items;
      await eventually(async () => {
        const more = (await t.http.get(`/v1/tcp/listeners/${listener.id}/connections`).query({ after: 0 }).expect(200)).body.items;
        expect(more).toHaveLength(2);
        connections.splice(0, connections.length, ...more);
      });
      writers.forEach((w, i) => w.socket.end(payloads[i]));
      // Both stop reading with the total near the cap (each may overshoot by one chunk).
      await eventually(async () => {
        const states = await Promise.all(connections.map((c: { id: string }) => t.http.get(`/v1/tcp/connections/${c.id}`).expect(200)));
        expect(states.map((s) => s.body.buffer.paused)).toEqual([true, true]);
      });
      const quota = (await t.http.get('/v1/limits').expect(200)).body.quotas.bufferedBytes;
      expect(quota.used).toBeGreaterThanOrEqual(64 * KiB);
      expect(quota.used).toBeLessThanOrEqual(64 * KiB + 2 * 64 * KiB);
      // Drain both by reading and releasing; every byte arrives, in order.
      const received: Buffer[] = await Promise.all(
        connections.map(async (c: { id: string }) => {
          const parts: Buffer[] = [];
          let offset = 0;
          for (;;) {
            const res = await t.http.get(`/v1/tcp/connections/${c.id}/buffer`).query({ from: offset, waitMs: 5000, encoding: 'base64' }).expect(200);
            parts.push(Buffer.from(res.body.data, 'base64'));
            offset = res.body.nextOffset;
            await t.http.delete(`/v1/tcp/connections/${c.id}/buffer`).query({ upTo: offset }).expect(200);
            if (res.body.eof) return Buffer.concat(parts);
          }
        }),
      );
      expect(received.map((b) => b.length).sort()).toEqual([300 * KiB, 300 * KiB]);
      expect(received.map((b) => b[0]).sort()).toEqual([0x61, 0x62]);
      expect(received.every((b) => b.every((byte) => byte === b[0]))).toBe(true);
      expect((await t.http.get('/v1/limits').expect(200)).body.quotas.bufferedBytes.used).toBe(0);
    } finally {
      await t.close();
    }
  });

  it('overload: /v1 is shed with 503 OVERLOADED and Retry-After while health stays open', async () => {
    // A heap threshold of one byte is always exceeded once the first sample is taken.
    const t = await startTestApp({ SOCKPLANE_SHED_HEAP_USED_BYTES: '1' });
    try {
      await eventually(async () => {
        const res = await t.http.get('/v1/limits');
        expect({ status: res.status, code: res.body.code, retryAfter: res.headers['retry-after'] }).toEqual({ status: 503, code: 'OVERLOADED', retryAfter: '5' });
      });
      await t.http.get('/health/live').expect(200);
    } finally {
      await t.close();
    }
  });
});
