import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nextOutputOrExit } from '../support/child-output';
import { PythonPeer, TcpPeer } from '../support/peers';
import { SseClient } from '../support/sse-client';
import { rawBytes, startTestApp, TestApp } from '../support/test-app';

const CAP = 256 * 1024;

/** Sends one command to a framing_peer.py and answers the line it printed for it. */
async function command(peer: PythonPeer, line: string): Promise<string> {
  const before = peer.stdout.split('\n').length;
  peer.process.stdin.write(`${line}\n`);
  for (;;) {
    const lines = peer.stdout.split('\n');
    if (lines.length > before) return lines[before - 1];
    if (peer.process.exitCode !== null) throw new Error(`framing_peer.py exited: ${peer.stderr}`);
    await nextOutputOrExit(peer.process);
  }
}

describe('framing', () => {
  let t: TestApp;
  const peers: PythonPeer[] = [];
  beforeAll(async () => {
    t = await startTestApp({ SOCKPLANE_MAX_BUFFERED_BYTES: String(CAP) });
  });
  afterEach(() => peers.splice(0).forEach((peer) => peer.kill()));
  afterAll(() => t.close());

  /** A listener with `framing`, a framing_peer.py connected to it, and the accepted connection's id. */
  async function framedPair(framing: object): Promise<{ peer: PythonPeer; id: string }> {
    const listener = await t.http.post('/v1/tcp/listeners').send({ port: 0, framing }).expect(201);
    const peer = new PythonPeer('framing_peer.py', [listener.body.local.port]);
    peers.push(peer);
    const accepted = await t.http.get(`/v1/tcp/listeners/${listener.body.id}/connections`).query({ waitMs: 5000 }).expect(200);
    return { peer, id: accepted.body.items[0].id };
  }

  const frames = (id: string, query: Record<string, string | number>) => t.http.get(`/v1/tcp/connections/${id}/frames`).query(query).expect(200);
  const bytesArrived = (id: string, count: number) => t.http.get(`/v1/tcp/connections/${id}/buffer`).query({ from: 0, minBytes: count, waitMs: 5000 }).expect(200);

  it('lines written in odd pieces, split inside a delimiter, come out whole, the last only once its delimiter arrives', async () => {
    const { peer, id } = await framedPair({ type: 'crlf' });
    const wire = Buffer.from('a\r\nbb\r\nccc');
    await command(peer, `send ${wire.subarray(0, 1).toString('hex')}`);
    await bytesArrived(id, 1);
    await command(peer, `send ${wire.subarray(1, 6).toString('hex')}`);
    await bytesArrived(id, 6);
    const first = await frames(id, { waitMs: 5000 });
    expect(first.body.frames.map((f: { data: string }) => f.data)).toEqual(['a']);
    await command(peer, `send ${wire.subarray(6).toString('hex')}`);
    const second = await frames(id, { from: 1, waitMs: 5000 });
    expect(second.body.frames).toEqual([expect.objectContaining({ index: 1, from: 3, to: 7, size: 2, data: 'bb' })]);
    const none = await frames(id, { from: 2, waitMs: 50 });
    expect(none.body).toMatchObject({ frames: [], nextIndex: 2, endIndex: 2, eof: false });
    await command(peer, 'send 0d0a');
    expect((await frames(id, { from: 2, waitMs: 5000 })).body.frames).toEqual([expect.objectContaining({ index: 2, from: 7, to: 12, size: 3, data: 'ccc' })]);
    // The frames' ranges are the byte log's.
    const bytes = await t.http.get(`/v1/tcp/connections/${id}/buffer`).query({ from: 3, maxBytes: 4 }).expect(200);
    expect(bytes.body.data).toBe('bb\r\n');
  });

  const LENGTH_CASES = [
    { lengthFieldLength: 1, byteOrder: 'big' },
    { lengthFieldLength: 2, byteOrder: 'little', lengthFieldOffset: 2 },
    { lengthFieldLength: 2, byteOrder: 'big', lengthAdjustment: -2 },
    { lengthFieldLength: 4, byteOrder: 'big' },
    { lengthFieldLength: 4, byteOrder: 'little', lengthFieldOffset: 1, lengthAdjustment: -4 },
    { lengthFieldLength: 'varint' },
    { lengthFieldLength: 'varint', lengthFieldOffset: 3 },
  ] as const;

  it.each(LENGTH_CASES)('length prefixes from struct.pack give exactly the payloads: %j', async (params) => {
    const width = params.lengthFieldLength === 'varint' ? 1 : params.lengthFieldLength;
    const offset = 'lengthFieldOffset' in params ? params.lengthFieldOffset : 0;
    const { peer, id } = await framedPair({ type: 'length', ...params, initialBytesToStrip: offset + width });
    const payloads = ['x', 'hello', '', 'y'.repeat(200), 'z'.repeat(130)].filter((p) => params.lengthFieldLength !== 1 || p.length < 256);
    await command(peer, `lengths ${JSON.stringify({ ...params, payloads })}`);
    const read = await frames(id, { waitMs: 5000, minFrames: payloads.length });
    expect(read.body.frames.map((f: { data: string }) => f.data)).toEqual(payloads);
    expect(read.body.error).toBeNull();
  });

  it('framed sends round-trip through a Python echo peer, one frame at a time or as a batch, and come back as the same frames', async () => {
    const server = new PythonPeer('tutorial/server.py', [0]);
    peers.push(server);
    const [, port] = await server.waitForOutput(/Listening on .*:(\d+)/);
    const connection = await t.http.post('/v1/tcp/connections').send({ host: '127.0.0.1', port: Number(port), framing: { type: 'u16be' } }).expect(201);
    const id = connection.body.id;
    const one = await t.http.post(`/v1/tcp/connections/${id}/send`).send({ data: 'first', frame: true }).expect(200);
    expect(one.body).toMatchObject({ bytesSent: 7, framesSent: 1 });
    const batch = await t.http
      .post(`/v1/tcp/connections/${id}/send`)
      .send({ frames: [{ data: 'second' }, { data: '00ff', encoding: 'hex' }, { data: '' }] })
      .expect(200);
    expect(batch.body).toMatchObject({ bytesSent: 2 + 6 + 2 + 2 + 2, framesSent: 3 });
    const read = await frames(id, { waitMs: 5000, minFrames: 4, encoding: 'hex' });
    expect(read.body.frames.map((f: { data: string }) => f.data)).toEqual([Buffer.from('first').toString('hex'), Buffer.from('second').toString('hex'), '00ff', '']);
    const state = await t.http.get(`/v1/tcp/connections/${id}`).expect(200);
    expect(state.body.framing).toMatchObject({ type: 'length', preset: 'u16be', framesIn: 4, framesOut: 4, heldFrames: 4, error: null });
  });

  it('a 1 GiB declared length with maxFrameBytes 1 MiB is a framing error, and memory stays flat', async () => {
    // The default buffer cap (4 MiB), so a 1 MiB frame is allowed.
    const roomy = await startTestApp();
    try {
      const listener = await roomy.http.post('/v1/tcp/listeners').send({ port: 0, framing: { type: 'u32be', maxFrameBytes: 1024 * 1024 } }).expect(201);
      const peer = new PythonPeer('framing_peer.py', [listener.body.local.port]);
      peers.push(peer);
      const accepted = await roomy.http.get(`/v1/tcp/listeners/${listener.body.id}/connections`).query({ waitMs: 5000 }).expect(200);
      const id = accepted.body.items[0].id;
      const before = process.memoryUsage().arrayBuffers;
      const gib = Buffer.alloc(4);
      gib.writeUInt32BE(2 ** 30);
      await command(peer, `send ${gib.toString('hex')}${'ab'.repeat(100_000)}`);
      const read = await roomy.http.get(`/v1/tcp/connections/${id}/frames`).query({ waitMs: 5000 }).expect(200);
      expect(read.body).toMatchObject({ frames: [], eof: true, error: { offset: 0, message: expect.stringContaining('over maxFrameBytes 1048576') } });
      // The bytes stay readable as bytes; nothing grew towards the declared size.
      await roomy.http.get(`/v1/tcp/connections/${id}/buffer`).query({ minBytes: 100_004, waitMs: 5000 }).expect(200);
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(32 * 1024 * 1024);
      const state = await roomy.http.get(`/v1/tcp/connections/${id}`).expect(200);
      expect(state.body).toMatchObject({ state: 'open', buffer: { heldBytes: 100_004 }, framing: { framesIn: 0, error: { offset: 0 } } });
    } finally {
      await roomy.close();
    }
  });

  it('onError close closes the connection with reason framing-error', async () => {
    const { peer, id } = await framedPair({ type: 'lines', maxFrameBytes: 16, onError: 'close' });
    await command(peer, `send ${Buffer.from('fine\n' + 'x'.repeat(40)).toString('hex')}`);
    const read = await frames(id, { waitMs: 5000, minFrames: 2 });
    expect(read.body.frames.map((f: { data: string }) => f.data)).toEqual(['fine']);
    const state = await t.http.get(`/v1/tcp/connections/${id}`).expect(200);
    expect(state.body).toMatchObject({ state: 'closed', closed: { reason: 'framing-error' } });
  });

  it('backpressure holds while frames go unread, and every frame arrives in order as they are read and released', async () => {
    const listener = await t.http.post('/v1/tcp/listeners').send({ port: 0, framing: { type: 'lines' } }).expect(201);
    const peer = await TcpPeer.connect(listener.body.local.port);
    const accepted = await t.http.get(`/v1/tcp/listeners/${listener.body.id}/connections`).query({ waitMs: 5000 }).expect(200);
    const id = accepted.body.items[0].id;
    const count = 45_000;
    const line = (i: number): string => `line ${i} ${'.'.repeat(150 + (i % 50))}`;
    const lines = Array.from({ length: count }, (_, i) => `${line(i)}\n`).join('');
    peer.socket.end(lines);
    await t.http.get(`/v1/tcp/connections/${id}/buffer`).query({ minBytes: CAP, maxBytes: CAP, waitMs: 10000 }).expect(200);
    const held = await t.http.get(`/v1/tcp/connections/${id}`).expect(200);
    expect(held.body.buffer.paused).toBe(true);
    expect(peer.socket.writableLength).toBeGreaterThan(0);

    let next = 0;
    for (;;) {
      const read = await frames(id, { from: next, max: 1000, waitMs: 10000 });
      for (const frame of read.body.frames) expect(frame.data).toBe(line(frame.index));
      expect(read.body.frames[0]?.index ?? next).toBe(next);
      next = read.body.nextIndex;
      await t.http.delete(`/v1/tcp/connections/${id}/frames`).query({ upTo: next }).expect(200);
      if (read.body.eof) break;
    }
    expect(next).toBe(count);
    const after = await t.http.get(`/v1/tcp/connections/${id}`).expect(200);
    expect(after.body.framing).toMatchObject({ framesIn: count, heldFrames: 0, oldestIndex: count });
    expect(after.body.buffer.heldBytes).toBe(0);
  });

  it('answers frames in binary with the frame indexes in headers', async () => {
    const { peer, id } = await framedPair({ type: 'lines' });
    await command(peer, `send ${Buffer.from('ab\ncde\n').toString('hex')}`);
    await frames(id, { waitMs: 5000, minFrames: 2 });
    const res = await t.http
      .get(`/v1/tcp/connections/${id}/frames`)
      .set('accept', 'application/vnd.sockplane.frames')
      .buffer(true)
      .parse(rawBytes)
      .expect(200)
      .expect('content-type', 'application/vnd.sockplane.frames');
    expect(res.headers).toMatchObject({ 'sockplane-from': '0', 'sockplane-next-index': '2', 'sockplane-count': '2', 'sockplane-end-index': '2' });
    const body = res.body as Buffer;
    const record = (at: number) => ({ index: Number(body.readBigUInt64BE(at)), from: Number(body.readBigUInt64BE(at + 16)), to: Number(body.readBigUInt64BE(at + 24)), size: body.readUInt32BE(at + 32) });
    expect(record(0)).toEqual({ index: 0, from: 0, to: 3, size: 2 });
    expect(body.subarray(36, 38).toString()).toBe('ab');
    expect(record(38)).toEqual({ index: 1, from: 3, to: 7, size: 3 });
    expect(body.subarray(74).toString()).toBe('cde');
  });

  it('changes the framing of an open connection, framing what is held, and shows it', async () => {
    const { peer, id } = await framedPair({ type: 'none' });
    await command(peer, `send ${Buffer.from('k1\nk2\nk').toString('hex')}`);
    await bytesArrived(id, 7);
    const set = await t.http.put(`/v1/tcp/connections/${id}/framing`).send({ type: 'delimiter', delimiters: ['0a'], encoding: 'hex', includeDelimiter: true }).expect(200);
    expect(set.body).toMatchObject({ type: 'delimiter', preset: null, delimiters: ['0a'], includeDelimiter: true, framesIn: 2, endIndex: 2 });
    await command(peer, `send ${Buffer.from('3\n').toString('hex')}`);
    const read = await frames(id, { waitMs: 5000, minFrames: 3 });
    expect(read.body.frames.map((f: { data: string }) => f.data)).toEqual(['k1\n', 'k2\n', 'k3\n']);
  });

  it('takes every framing example of the OpenAPI document as sent, and the framed send examples on a framed connection', async () => {
    const document = JSON.parse(readFileSync(join(__dirname, '..', '..', 'openapi', 'openapi.json'), 'utf8'));
    const examplesOf = (path: string, method: string): Record<string, { value: Record<string, unknown> }> =>
      document.paths[path][method].requestBody.content['application/json'].examples;
    const { peer, id } = await framedPair({ type: 'none' });
    const framings = Object.entries(examplesOf('/v1/tcp/connections/{id}/framing', 'put'));
    expect(framings.length).toBeGreaterThanOrEqual(11);
    for (const [name, { value }] of framings) {
      const res = await t.http.put(`/v1/tcp/connections/${id}/framing`).send(value);
      expect({ name, status: res.status }).toEqual({ name, status: 200 });
    }
    const listeners = Object.values(examplesOf('/v1/tcp/listeners', 'post')).filter(({ value }) => 'framing' in value && value.port === 0);
    expect(listeners.length).toBeGreaterThanOrEqual(2);
    for (const { value } of listeners) {
      const res = await t.http.post('/v1/tcp/listeners').send(value).expect(201);
      await t.http.delete(`/v1/tcp/listeners/${res.body.id}`).expect(200);
    }
    await t.http.put(`/v1/tcp/connections/${id}/framing`).send({ type: 'lines' }).expect(200);
    const sends = examplesOf('/v1/tcp/connections/{id}/send', 'post');
    for (const name of ['frame', 'frames']) await t.http.post(`/v1/tcp/connections/${id}/send`).send(sends[name].value).expect(200);
    expect(await command(peer, 'read 16')).toBe(Buffer.from('PING\r\nPING\r\n\x00\xff\r\n', 'latin1').toString('hex'));
  });

  it('reports frames and framing errors as events, the frame’s data as payload when the stream asks for it', async () => {
    const port = await t.listen();
    const listener = await t.http.post('/v1/tcp/listeners').send({ port: 0, framing: { type: 'lines', maxFrameBytes: 8 } }).expect(201);
    expect(listener.body.options.framing).toMatchObject({ type: 'delimiter', preset: 'lines', delimiters: ['0d0a', '0a'], maxFrameBytes: 8, onError: 'record' });
    const stream = await SseClient.open(port, `/v1/events?type=connection.frame&type=connection.framing-error&payload=utf8`);
    try {
      const peer = await TcpPeer.connect(listener.body.local.port);
      await peer.write('hi\nthis line is too long\n');
      const [frame, error] = await stream.waitForCount(2);
      expect(frame.json).toMatchObject({ type: 'connection.frame', data: { index: 0, from: 0, to: 3, size: 2 }, payload: 'hi' });
      expect(error.json).toMatchObject({ type: 'connection.framing-error', data: { offset: 3, action: 'record', message: expect.stringContaining('maxFrameBytes 8') } });
      peer.socket.destroy();
    } finally {
      stream.close();
    }
  });

  describe('refuses', () => {
    it.each([
      [{ type: 'delimiter' }, 'framing.delimiters', 'framing.delimiters is required for type delimiter'],
      [{ type: 'delimiter', delimiters: ['\r\n', '\r'] }, 'framing.delimiters', expect.stringContaining('inside another')],
      [{ type: 'delimiter', delimiters: ['zz'], encoding: 'hex' }, 'framing.delimiters', expect.stringContaining('not valid hex')],
      [{ type: 'length' }, 'framing.lengthFieldLength', 'framing.lengthFieldLength is required for type length'],
      [{ type: 'length', lengthFieldLength: 5 }, 'framing.lengthFieldLength', expect.stringContaining('must be one of the following values: 1, 2, 3, 4, 8, varint')],
      [{ type: 'fixed' }, 'framing.frameBytes', 'framing.frameBytes is required for type fixed'],
      [{ type: 'lines', frameBytes: 3 }, 'framing.frameBytes', expect.stringContaining('does not apply to type lines')],
      [{ type: 'u32be', maxFrameBytes: CAP + 1 }, 'framing.maxFrameBytes', expect.stringContaining('buffer cap')],
      [{ type: 'frames' }, 'framing.type', expect.stringContaining('must be one of')],
    ])('a bad framing %j with 400 naming the field', async (framing, field, message) => {
      const res = await t.http.post('/v1/tcp/listeners').send({ port: 0, framing }).expect(400).expect('content-type', /application\/problem\+json/);
      expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', errors: expect.arrayContaining([{ field, message }]) });
    });

    it('framed sends on a connection without framing with 409 NO_FRAMING, and frames a framing cannot carry with 400', async () => {
      const listener = await t.http.post('/v1/tcp/listeners').send({ port: 0 }).expect(201);
      const peer = await TcpPeer.connect(listener.body.local.port);
      const accepted = await t.http.get(`/v1/tcp/listeners/${listener.body.id}/connections`).query({ waitMs: 5000 }).expect(200);
      const id = accepted.body.items[0].id;
      const none = await t.http.post(`/v1/tcp/connections/${id}/send`).send({ data: 'x', frame: true }).expect(409);
      expect(none.body.code).toBe('NO_FRAMING');
      await t.http.put(`/v1/tcp/connections/${id}/framing`).send({ type: 'fixed', frameBytes: 2 }).expect(200);
      const wrong = await t.http.post(`/v1/tcp/connections/${id}/send`).send({ frames: [{ data: 'ok' }, { data: 'bad' }] }).expect(400);
      expect(wrong.body).toMatchObject({ code: 'INVALID_PAYLOAD', detail: expect.stringContaining('frame 1') });
      const both = await t.http.post(`/v1/tcp/connections/${id}/send`).send({ data: 'ok', frames: [{ data: 'ok' }] }).expect(400);
      expect(both.body.errors).toEqual([{ field: 'frames', message: expect.stringContaining('either data') }]);
      peer.socket.destroy();
    });
  });
});
