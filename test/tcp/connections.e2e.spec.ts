import { once } from 'node:events';
import { Server, Socket, createServer } from 'node:net';
import { PythonPeer, TcpPeer, eventually } from '../support/peers';
import { rawBytes, startTestApp, TestApp } from '../support/test-app';

/** A Node server standing in for a remote peer; hands each accepted socket to the test. */
async function peerServer(host = '127.0.0.1'): Promise<{ server: Server; port: number; nextSocket: () => Promise<Socket> }> {
  const server = createServer({ allowHalfOpen: true });
  const sockets: Socket[] = [];
  server.on('connection', (socket) => {
    socket.on('error', () => undefined);
    sockets.push(socket);
  });
  server.listen(0, host);
  await once(server, 'listening');
  return {
    server,
    port: (server.address() as { port: number }).port,
    nextSocket: async () => {
      while (sockets.length === 0) await once(server, 'connection');
      return sockets.shift() as Socket;
    },
  };
}

describe('/v1/tcp/connections', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ SOCKPLANE_CLOSED_RETENTION_MS: '60000' });
  });
  afterAll(() => t.close());

  async function connectTo(port: number, body: Record<string, unknown> = {}): Promise<string> {
    const res = await t.http.post('/v1/tcp/connections').send({ host: '127.0.0.1', port, ...body }).expect(201);
    return res.body.id;
  }

  describe('connect', () => {
    it('answers 502 CONNECTION_REFUSED with the errno when nothing listens', async () => {
      const closed = createServer().listen(0, '127.0.0.1');
      await once(closed, 'listening');
      const port = (closed.address() as { port: number }).port;
      closed.close();
      await once(closed, 'close');
      const res = await t.http.post('/v1/tcp/connections').send({ host: '127.0.0.1', port }).expect(502);
      expect(res.body).toMatchObject({ code: 'CONNECTION_REFUSED', errno: 'ECONNREFUSED', status: 502 });
    });

    it('answers 504 CONNECT_TIMEOUT when the peer never completes the handshake', async () => {
      const blackhole = new PythonPeer('backlog_full.py', []);
      const [, port] = await blackhole.waitForOutput(/^(\d+)$/m);
      // Fill the accept queue of a listener that never accepts; further SYNs are dropped.
      const fillers: Socket[] = [];
      for (let i = 0; i < 4; i++) {
        const s = new Socket().on('error', () => undefined);
        s.connect(Number(port), '127.0.0.1');
        fillers.push(s);
      }
      const res = await t.http.post('/v1/tcp/connections').send({ host: '127.0.0.1', port: Number(port), connectTimeoutMs: 300 }).expect(504);
      expect(res.body).toMatchObject({ code: 'CONNECT_TIMEOUT', errno: 'ETIMEDOUT', timeoutMs: 300 });
      fillers.forEach((s) => s.destroy());
      blackhole.process.stdin.end();
      await blackhole.exited;
    });

    it('resolves host names (localhost) and dials the resolved address', async () => {
      const peer = await peerServer();
      const res = await t.http.post('/v1/tcp/connections').send({ host: 'localhost', port: peer.port, family: 4 }).expect(201);
      expect(res.body.remote).toMatchObject({ address: '127.0.0.1', port: peer.port });
      await t.http.delete(`/v1/tcp/connections/${res.body.id}?mode=reset`).expect(200);
      peer.server.close();
    });

    it('answers 400 for host forms the resolver would reinterpret, and for bad ports', async () => {
      for (const host of ['127.1', '0x7f.0.0.1', '2130706433', '017700000001']) {
        const res = await t.http.post('/v1/tcp/connections').send({ host, port: 80 }).expect(400);
        expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'host' }] });
      }
      for (const port of [0, 65536, -1, 1.5, '80']) {
        const res = await t.http.post('/v1/tcp/connections').send({ host: '127.0.0.1', port }).expect(400);
        expect(res.body.errors[0].field).toBe('port');
      }
    });
  });

  describe('an app that resolves names without DNS', () => {
    it('answers 502 NAME_NOT_RESOLVED for a name that does not resolve', async () => {
      const app = await startTestApp({}, { hostResolver: async (host) => {
        throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND', syscall: 'getaddrinfo' });
      } });
      try {
        const res = await app.http.post('/v1/tcp/connections').send({ host: 'nowhere.invalid', port: 80 }).expect(502);
        expect(res.body).toMatchObject({ code: 'NAME_NOT_RESOLVED', errno: 'ENOTFOUND' });
      } finally {
        await app.close();
      }
    });
  });

  describe('send and read', () => {
    it('sends utf8, hex, base64 and raw bytes; the peer receives exactly those bytes', async () => {
      const peer = await peerServer();
      const id = await connectTo(peer.port);
      const remote = await peer.nextSocket();
      const got: Buffer[] = [];
      remote.on('data', (c: Buffer) => got.push(c));
      await t.http.post(`/v1/tcp/connections/${id}/send`).send({ data: 'hé', encoding: 'utf8' }).expect(200);
      await t.http.post(`/v1/tcp/connections/${id}/send`).send({ data: '00ff', encoding: 'hex' }).expect(200);
      await t.http.post(`/v1/tcp/connections/${id}/send`).send({ data: 'AQI=', encoding: 'base64' }).expect(200);
      const raw = await t.http
        .post(`/v1/tcp/connections/${id}/send`)
        .set('content-type', 'application/octet-stream')
        .send(Buffer.from([7, 8, 9]))
        .expect(200);
      expect(raw.body).toMatchObject({ bytesSent: 3, bytesOut: 10 });
      await eventually(async () => expect(Buffer.concat(got)).toEqual(Buffer.from([0x68, 0xc3, 0xa9, 0, 255, 1, 2, 7, 8, 9])));
      await t.http.delete(`/v1/tcp/connections/${id}?mode=reset`).expect(200);
      peer.server.close();
    });

    it('concurrent sends on one connection reach the peer whole, and a close issued among them keeps every send it answered 200', async () => {
      const peer = await peerServer();
      const id = await connectTo(peer.port);
      const remote = await peer.nextSocket();
      const got: Buffer[] = [];
      remote.on('data', (c: Buffer) => got.push(c));
      const ended = once(remote, 'end');
      const message = (i: number): string => `<${i}:${'x'.repeat(i % 7)}>`;
      const send = (i: number) => t.http.post(`/v1/tcp/connections/${id}/send`).send({ data: message(i) });
      const first = await Promise.all(Array.from({ length: 40 }, (_, i) => send(i)));
      expect(first.map((r) => r.status)).toEqual(Array(40).fill(200));
      // More sends, with a graceful close racing them: whatever was answered 200 was sent before the FIN.
      const [second] = await Promise.all([
        Promise.all(Array.from({ length: 40 }, (_, i) => send(40 + i))),
        t.http.delete(`/v1/tcp/connections/${id}`).expect(200),
      ]);
      await ended;
      const received = Buffer.concat(got).toString('utf8');
      const answered = [...first, ...second].flatMap((r, i) => (r.status === 200 ? [message(i)] : []));
      expect(received.match(/<\d+:x*>/g)?.sort()).toEqual(answered.sort());
      expect(received.replace(/<\d+:x*>/g, '')).toBe('');
      expect(second.every((r) => r.status === 200 || r.body.code === 'SOCKET_CLOSED')).toBe(true);
      peer.server.close();
    });

    it('refuses malformed payloads with 400 INVALID_PAYLOAD and sends nothing', async () => {
      const peer = await peerServer();
      const id = await connectTo(peer.port);
      for (const body of [
        { data: 'abc', encoding: 'hex' },
        { data: 'zz', encoding: 'hex' },
        { data: '@@@=', encoding: 'base64' },
      ]) {
        const res = await t.http.post(`/v1/tcp/connections/${id}/send`).send(body).expect(400);
        expect(res.body.code).toBe('INVALID_PAYLOAD');
      }
      const conn = await t.http.get(`/v1/tcp/connections/${id}`).expect(200);
      expect(conn.body.counters.bytesOut).toBe(0);
      await t.http.delete(`/v1/tcp/connections/${id}?mode=reset`).expect(200);
      peer.server.close();
    });

    it('reads by offset without consuming, in every encoding and as raw octets, and releases', async () => {
      const peer = await peerServer();
      const id = await connectTo(peer.port);
      const remote = await peer.nextSocket();
      remote.write('hello world');
      const first = await t.http.get(`/v1/tcp/connections/${id}/buffer`).query({ waitMs: 5000, minBytes: 11 }).expect(200);
      expect(first.body).toMatchObject({ from: 0, nextOffset: 11, byteCount: 11, data: 'hello world', oldestOffset: 0, endOffset: 11, eof: false, delimiterFound: null });
      const again = await t.http.get(`/v1/tcp/connections/${id}/buffer`).query({ from: 6, maxBytes: 3, encoding: 'hex' }).expect(200);
      expect(again.body).toMatchObject({ from: 6, nextOffset: 9, data: Buffer.from('wor').toString('hex') });
      const b64 = await t.http.get(`/v1/tcp/connections/${id}/buffer`).query({ from: 6, encoding: 'base64' }).expect(200);
      expect(Buffer.from(b64.body.data, 'base64').toString()).toBe('world');

      const raw = await t.http
        .get(`/v1/tcp/connections/${id}/buffer`)
        .query({ from: 6 })
        .set('accept', 'application/octet-stream')
        .buffer(true)
        .parse(rawBytes)
        .expect(200);
      expect(raw.headers['content-type']).toBe('application/octet-stream');
      expect(raw.body).toEqual(Buffer.from('world'));
      expect([raw.headers.vary, b64.headers.vary]).toEqual(['Accept', 'Accept']);
      expect(raw.headers).toMatchObject({ 'sockplane-from': '6', 'sockplane-next-offset': '11', 'sockplane-end-offset': '11', 'sockplane-eof': 'false' });

      const released = await t.http.delete(`/v1/tcp/connections/${id}/buffer`).query({ upTo: 6 }).expect(200);
      expect(released.body).toMatchObject({ oldestOffset: 6, endOffset: 11, heldBytes: 5, paused: false });
      const gone = await t.http.get(`/v1/tcp/connections/${id}/buffer`).query({ from: 0 }).expect(410);
      expect(gone.body).toMatchObject({ code: 'OFFSET_RELEASED', oldestOffset: 6 });
      const ahead = await t.http.get(`/v1/tcp/connections/${id}/buffer`).query({ from: 12 }).expect(416);
      expect(ahead.body).toMatchObject({ code: 'OFFSET_OUT_OF_RANGE', endOffset: 11 });
      await t.http.delete(`/v1/tcp/connections/${id}/buffer`).query({ upTo: 99 }).expect(416);
      // Without `from`, a read starts at the oldest byte still held.
      const rest = await t.http.get(`/v1/tcp/connections/${id}/buffer`).expect(200);
      expect(rest.body).toMatchObject({ from: 6, data: 'world' });
      await t.http.delete(`/v1/tcp/connections/${id}`).expect(200);
      peer.server.close();
    });

    it('negotiates JSON or raw octets by Accept, honouring q=0, and answers 406 when Accept takes neither', async () => {
      const peer = await peerServer();
      const id = await connectTo(peer.port);
      const remote = await peer.nextSocket();
      remote.write('hi');
      await t.http.get(`/v1/tcp/connections/${id}/buffer`).query({ waitMs: 5000, minBytes: 2 }).expect(200);
      const typeFor = async (accept: string): Promise<string | undefined> => {
        const res = await t.http.get(`/v1/tcp/connections/${id}/buffer`).set('accept', accept).buffer(true).parse(rawBytes).expect(200);
        return res.headers['content-type'];
      };
      expect(await typeFor('application/octet-stream')).toBe('application/octet-stream');
      expect(await typeFor('application/octet-stream;q=0, application/json')).toMatch(/^application\/json/);
      expect(await typeFor('application/octet-stream;q=0, */*')).toMatch(/^application\/json/);
      expect(await typeFor('application/json;q=0.5, application/octet-stream')).toBe('application/octet-stream');
      expect(await typeFor('*/*')).toMatch(/^application\/json/);
      for (const accept of ['text/plain', 'application/octet-stream;q=0', 'application/vnd.sockplane.datagrams']) {
        const refused = await t.http.get(`/v1/tcp/connections/${id}/buffer`).set('accept', accept).expect(406);
        expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(refused.body).toMatchObject({ code: 'NOT_ACCEPTABLE', available: ['application/json', 'application/octet-stream'] });
      }
      await t.http.delete(`/v1/tcp/connections/${id}?mode=reset`).expect(200);
      peer.server.close();
    });

    it('answers a raw read of many received chunks whole, with the headers of any answer, and counts it', async () => {
      const peer = await peerServer();
      const id = await connectTo(peer.port);
      const remote = await peer.nextSocket();
      const sent = Buffer.from(Array.from({ length: 1024 * 1024 }, (_, i) => (i * 7) % 251));
      remote.write(sent);
      // A read is ready once maxBytes are there, so the wait asks for all of them.
      const raw = await t.http
        .get(`/v1/tcp/connections/${id}/buffer`)
        .query({ maxBytes: sent.length, minBytes: sent.length, waitMs: 10000 })
        .set('accept', 'application/octet-stream')
        .set('x-request-id', 'raw-read-1')
        .buffer(true)
        .parse(rawBytes)
        .expect(200);
      expect(Buffer.compare(raw.body as Buffer, sent)).toBe(0);
      expect(raw.headers).toMatchObject({
        'content-length': String(sent.length),
        'sockplane-next-offset': String(sent.length),
        'x-request-id': 'raw-read-1',
        'x-content-type-options': 'nosniff',
        vary: 'Accept',
      });
      const head = await t.http.head(`/v1/tcp/connections/${id}/buffer`).query({ maxBytes: sent.length }).set('accept', 'application/octet-stream').expect(200);
      expect(head.headers['content-length']).toBe(String(sent.length));
      const metrics = await t.http.get('/metrics').expect(200);
      expect(metrics.text).toMatch(/sockplane_http_request_duration_seconds_count\{method="GET",route="\/v1\/tcp\/connections\/:id\/buffer",status="200"\} [1-9]/);
      await t.http.delete(`/v1/tcp/connections/${id}`).expect(200);
      peer.server.close();
    });

    it('a long-poll answers as soon as the bytes arrive, and `until` returns a line at a time', async () => {
      const peer = await peerServer();
      const id = await connectTo(peer.port);
      const remote = await peer.nextSocket();
      const waiting = t.http.get(`/v1/tcp/connections/${id}/buffer`).query({ waitMs: 20000, until: '\n' }).then((r) => r);
      remote.write('first ');
      remote.write('line\nsecond');
      const line = await waiting;
      expect(line.body).toMatchObject({ data: 'first line\n', nextOffset: 11, delimiterFound: true });
      // The delimiter has not arrived for the second line: the wait times out with what there is.
      const partial = await t.http.get(`/v1/tcp/connections/${id}/buffer`).query({ from: 11, until: '\n', waitMs: 50 }).expect(200);
      expect(partial.body).toMatchObject({ data: 'second', delimiterFound: false });
      const crlf = t.http.get(`/v1/tcp/connections/${id}/buffer`).query({ from: 11, until: '0d0a', untilEncoding: 'hex', waitMs: 20000 }).then((r) => r);
      remote.write('\r\n');
      expect((await crlf).body).toMatchObject({ data: 'second\r\n', delimiterFound: true });
      // A delimiter split across two arrivals is still found by a read already waiting.
      const split = t.http.get(`/v1/tcp/connections/${id}/buffer`).query({ from: 19, until: '0d0a', untilEncoding: 'hex', waitMs: 20000 }).then((r) => r);
      remote.write('third\r');
      await eventually(async () => expect((await t.http.get(`/v1/tcp/connections/${id}`)).body.buffer.endOffset).toBe(25));
      remote.write('\n');
      expect((await split).body).toMatchObject({ data: 'third\r\n', delimiterFound: true });
      await t.http.delete(`/v1/tcp/connections/${id}`).expect(200);
      peer.server.close();
    });
  });

  describe('half-close, reset and close', () => {
    it('the peer ends: the read reports eof after the last byte, and the API can still send', async () => {
      const peer = await peerServer();
      const id = await connectTo(peer.port);
      const remote = await peer.nextSocket();
      remote.end('last words');
      const read = await t.http.get(`/v1/tcp/connections/${id}/buffer`).query({ waitMs: 5000, minBytes: 100 }).expect(200);
      expect(read.body).toMatchObject({ data: 'last words', eof: true, nextOffset: 10 });
      const conn = await t.http.get(`/v1/tcp/connections/${id}`).expect(200);
      expect(conn.body).toMatchObject({ state: 'peer-ended', buffer: { inputEnded: true }, closed: null });

      const got = once(remote, 'data');
      const endReceived = once(remote, 'end');
      await t.http.post(`/v1/tcp/connections/${id}/send`).send({ data: 'reply after FIN', end: true }).expect(200);
      expect(String((await got)[0])).toBe('reply after FIN');
      await endReceived;
      remote.end();
      const closed = await eventually(async () => {
        const res = await t.http.get(`/v1/tcp/connections/${id}`).expect(200);
        expect(res.body.state).toBe('closed');
        return res.body;
      });
      expect(closed.closed).toMatchObject({ reason: 'peer-end', errno: null });
      // Closed by the peer, yet every byte is still there for a late reader.
      const late = await t.http.get(`/v1/tcp/connections/${id}/buffer`).query({ from: 0 }).expect(200);
      expect(late.body).toMatchObject({ data: 'last words', eof: true });
      await t.http.post(`/v1/tcp/connections/${id}/send`).send({ data: 'x' }).expect(409);
      await t.http.delete(`/v1/tcp/connections/${id}`).expect(200);
      await t.http.get(`/v1/tcp/connections/${id}`).expect(404);
      peer.server.close();
    });

    it('a peer reset shows as peer-reset with its errno, and nothing crashes', async () => {
      const peer = await peerServer();
      const id = await connectTo(peer.port);
      const remote = await peer.nextSocket();
      remote.write('partial');
      await t.http.get(`/v1/tcp/connections/${id}/buffer`).query({ waitMs: 5000, minBytes: 7 }).expect(200);
      remote.resetAndDestroy();
      const closed = await eventually(async () => {
        const res = await t.http.get(`/v1/tcp/connections/${id}`).expect(200);
        expect(res.body.state).toBe('closed');
        return res.body;
      });
      expect(closed.closed).toMatchObject({ reason: 'peer-reset', errno: 'ECONNRESET' });
      const read = await t.http.get(`/v1/tcp/connections/${id}/buffer`).expect(200);
      expect(read.body).toMatchObject({ data: 'partial', eof: true });
      const send = await t.http.post(`/v1/tcp/connections/${id}/send`).send({ data: 'x' }).expect(409);
      expect(send.body.code).toBe('SOCKET_CLOSED');
      peer.server.close();
    });

    it('DELETE ?mode=reset sends RST; the default sends FIN', async () => {
      const peer = await peerServer();
      const graceful = await connectTo(peer.port);
      const remote1 = await peer.nextSocket();
      remote1.resume();
      const ended = once(remote1, 'end');
      const closing = t.http.delete(`/v1/tcp/connections/${graceful}`).then((r) => r);
      await ended;
      remote1.end();
      expect((await closing).body).toMatchObject({ state: 'closed', closed: { reason: 'local' } });

      const reset = await connectTo(peer.port);
      const remote2 = await peer.nextSocket();
      remote2.removeAllListeners('error');
      const error = once(remote2, 'error');
      const res = await t.http.delete(`/v1/tcp/connections/${reset}?mode=reset`).expect(200);
      expect(res.body.closed.reason).toBe('local');
      expect((await error)[0]).toMatchObject({ code: 'ECONNRESET' });
      peer.server.close();
    });

    it('a graceful close of a peer that never answers FIN resets after the linger time', async () => {
      const peer = await peerServer();
      const id = await connectTo(peer.port);
      const remote = await peer.nextSocket();
      const finReceived = once(remote, 'end');
      remote.resume();
      const res = await t.http.delete(`/v1/tcp/connections/${id}`).expect(200);
      await finReceived;
      expect(res.body).toMatchObject({ state: 'closed', closed: { reason: 'linger-expired', errno: null } });
      remote.destroy();
      peer.server.close();
    });

    it('an idle timeout closes the connection with reason timeout', async () => {
      const peer = await peerServer();
      const id = await connectTo(peer.port, { idleTimeoutMs: 100 });
      await peer.nextSocket();
      const read = await t.http.get(`/v1/tcp/connections/${id}/buffer`).query({ waitMs: 10000 }).expect(200);
      expect(read.body.eof).toBe(true);
      const conn = await t.http.get(`/v1/tcp/connections/${id}`).expect(200);
      expect(conn.body).toMatchObject({ state: 'closed', closed: { reason: 'timeout' } });
      peer.server.close();
    });
  });

  describe('retention', () => {
    it('forgets a connection that closed on its own once the retention time has passed', async () => {
      const app = await startTestApp({ SOCKPLANE_CLOSED_RETENTION_MS: '100' });
      try {
        const peer = await peerServer();
        const created = await app.http.post('/v1/tcp/connections').send({ host: '127.0.0.1', port: peer.port }).expect(201);
        (await peer.nextSocket()).resetAndDestroy();
        await eventually(() => app.http.get(`/v1/tcp/connections/${created.body.id}`).expect(404));
        peer.server.close();
      } finally {
        await app.close();
      }
    });
  });

  it('IPv6 › connects to ::1 and exchanges bytes', async () => {
    const peer = await peerServer('::1');
    const res = await t.http.post('/v1/tcp/connections').send({ host: '::1', port: peer.port }).expect(201);
    expect(res.body.local).toMatchObject({ address: '::1', family: 'IPv6' });
    const remote = await peer.nextSocket();
    remote.write('v6');
    const read = await t.http.get(`/v1/tcp/connections/${res.body.id}/buffer`).query({ waitMs: 5000, minBytes: 2 }).expect(200);
    expect(read.body.data).toBe('v6');
    await t.http.delete(`/v1/tcp/connections/${res.body.id}?mode=reset`).expect(200);
    peer.server.close();
  });

  it('a TcpPeer helper sanity check: inbound connections echo in echo mode', async () => {
    const listener = await t.http.post('/v1/tcp/listeners').send({ port: 0, mode: 'echo' }).expect(201);
    const client = await TcpPeer.connect(listener.body.local.port);
    await client.write('ping');
    expect((await client.receive(4)).toString()).toBe('ping');
    client.socket.end();
    await client.whenClosed();
    await t.http.delete(`/v1/tcp/listeners/${listener.body.id}`).expect(200);
  });
});
