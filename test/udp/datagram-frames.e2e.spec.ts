import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request, { Response } from 'supertest';
import { SocketRegistry } from '../../src/sockets/socket-registry';
import { MAX_DATAGRAM_BYTES } from '../../src/sockets/udp-socket';
import { UdpPeer } from '../support/peers';
import { TestApp, startTestApp } from '../support/test-app';

const FRAMES = 'application/vnd.sockplane.datagrams';

/** One datagram as a frame says it. */
interface Frame {
  seq: number;
  receivedAt: number;
  size: number;
  port: number;
  family: number;
  address: string;
  payload: Buffer;
}

/** Parses a frame body independently of the service's encoder (DataView, not Buffer's readers). */
function parseFrames(body: Buffer): Frame[] {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const frames: Frame[] = [];
  let at = 0;
  while (at < body.length) {
    const u64 = (offset: number): number => view.getUint32(offset) * 2 ** 32 + view.getUint32(offset + 4);
    const size = view.getUint32(at + 16);
    const addressLength = view.getUint8(at + 23);
    const address = body.subarray(at + 24, at + 24 + addressLength).toString('ascii');
    const payloadAt = at + 24 + addressLength;
    frames.push({ seq: u64(at), receivedAt: u64(at + 8), size, port: view.getUint16(at + 20), family: view.getUint8(at + 22), address, payload: body.subarray(payloadAt, payloadAt + size) });
    at = payloadAt + size;
  }
  expect(at).toBe(body.length);
  return frames;
}

/** Keeps a non-JSON body as bytes. */
function binary(res: request.Response, callback: (err: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => callback(null, Buffer.concat(chunks)));
}

/** The Sockplane-* headers of a frame answer, as numbers. */
function seqHeaders(res: Response): Record<string, number> {
  const names = ['from', 'next-seq', 'count', 'oldest-seq', 'end-seq', 'dropped'];
  return Object.fromEntries(names.map((name) => [name, Number(res.headers[`sockplane-${name}`])]));
}

function expectProblem(res: Response, status: number, code: string): void {
  expect({ status: res.status, type: res.headers['content-type'], code: res.body.code }).toEqual({
    status,
    type: expect.stringContaining('application/problem+json'),
    code,
  });
}

/** The Python parser of the binary-read section of docs/api.md (the script its example writes). */
function documentedPythonParser(): string {
  const page = readFileSync(join(__dirname, '..', '..', 'docs', 'api.md'), 'utf8');
  const section = page.slice(page.indexOf('## Binary batch reads of datagrams'));
  const script = /<<'PY'\n([\s\S]*?)^PY$/m.exec(section);
  if (!script) throw new Error("docs/api.md: no <<'PY' script after ## Binary batch reads of datagrams");
  return script[1];
}

function hasPython(): boolean {
  try {
    execFileSync('python3', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe(`GET /v1/udp/sockets/{id}/datagrams as ${FRAMES}`, () => {
  let t: TestApp;
  const peers: UdpPeer[] = [];
  const sockets: string[] = [];

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterEach(async () => {
    await Promise.all(peers.splice(0).map((p) => p.close()));
    await Promise.all(sockets.splice(0).map((id) => t.http.delete(`/v1/udp/sockets/${id}`).expect(200)));
  });
  afterAll(() => t.close());

  async function createSocket(body: object = {}): Promise<{ id: string; port: number }> {
    const res = await t.http.post('/v1/udp/sockets').send(body).expect(201);
    sockets.push(res.body.id);
    return { id: res.body.id, port: res.body.local.port };
  }

  async function peer(host?: string): Promise<UdpPeer> {
    const p = await UdpPeer.bind(host);
    peers.push(p);
    return p;
  }

  function readFrames(id: string, query: object = {}, accept = FRAMES): request.Test {
    return t.http.get(`/v1/udp/sockets/${id}/datagrams`).query(query).set('accept', accept).buffer(true).parse(binary);
  }

  /** Resolves once the socket's log has reached `endSeq` (the datagrams sent were kept). */
  async function kept(id: string, endSeq: number): Promise<void> {
    const socket = t.app.get(SocketRegistry).getUdpSocket(id);
    while (socket.buffer.endSeq < endSeq) await new Promise((resolve) => setImmediate(resolve));
  }

  it('answers frames of IPv4 datagrams byte for byte, empty and largest ones included, with the seqs in headers', async () => {
    const socket = await createSocket({ recvBufferSize: 1024 * 1024 });
    const sender = await peer('127.0.0.1');
    const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const payloads = [Buffer.from('ping'), Buffer.alloc(0), every, Buffer.alloc(MAX_DATAGRAM_BYTES.udp4, 0xa5)];
    const before = Date.now();
    for (const payload of payloads) await sender.send(payload, socket.port);
    await kept(socket.id, payloads.length);

    const res = await readFrames(socket.id).expect(200);
    expect(res.headers['content-type']).toBe(FRAMES);
    expect(seqHeaders(res)).toEqual({ from: 0, 'next-seq': 4, count: 4, 'oldest-seq': 0, 'end-seq': 4, dropped: 0 });
    const frames = parseFrames(res.body);
    expect(Number(res.headers['content-length'])).toBe(res.body.length);
    expect(frames.map((f) => ({ seq: f.seq, size: f.size, address: f.address, port: f.port, family: f.family }))).toEqual(
      payloads.map((p, seq) => ({ seq, size: p.length, address: '127.0.0.1', port: sender.port, family: 4 })),
    );
    frames.forEach((frame, i) => expect(frame.payload.equals(payloads[i])).toBe(true));
    for (const frame of frames) expect(frame.receivedAt).toBeGreaterThanOrEqual(before - 1);
    for (const frame of frames) expect(frame.receivedAt).toBeLessThanOrEqual(Date.now());

    // The same datagrams as JSON: the default, unchanged, with the same times.
    const json = await t.http.get(`/v1/udp/sockets/${socket.id}/datagrams`).query({ encoding: 'base64' }).expect(200);
    expect(json.headers['content-type']).toContain('application/json');
    expect(json.body.datagrams.map((d: { receivedAt: string }) => Date.parse(d.receivedAt))).toEqual(frames.map((f) => f.receivedAt));
    expect(json.body.datagrams.map((d: { data: string }) => Buffer.from(d.data, 'base64'))).toEqual(payloads);
  });

  it('answers frames of IPv6 datagrams from ::1', async () => {
    const socket = await createSocket({ type: 'udp6' });
    const sender = await peer('::1');
    const payloads = [Buffer.from('over ::1'), Buffer.from([0, 0xff, 0x0a, 0x0d])];
    for (const payload of payloads) await sender.send(payload, socket.port, '::1');
    await kept(socket.id, payloads.length);

    const res = await readFrames(socket.id).expect(200);
    const frames = parseFrames(res.body);
    expect(frames.map((f) => ({ seq: f.seq, address: f.address, port: f.port, family: f.family, payload: f.payload }))).toEqual(
      payloads.map((payload, seq) => ({ seq, address: '::1', port: sender.port, family: 6, payload })),
    );
  });

  it('continues from nextSeq, stops at max, and answers an empty body when nothing is there', async () => {
    const socket = await createSocket();
    const sender = await peer();
    for (const text of ['a', 'b', 'c']) await sender.send(text, socket.port);
    await kept(socket.id, 3);

    const first = await readFrames(socket.id, { max: 2 }).expect(200);
    expect(seqHeaders(first)).toMatchObject({ from: 0, 'next-seq': 2, count: 2, 'end-seq': 3 });
    expect(parseFrames(first.body).map((f) => f.payload.toString())).toEqual(['a', 'b']);
    const second = await readFrames(socket.id, { from: 2, max: 2 }).expect(200);
    expect(seqHeaders(second)).toMatchObject({ from: 2, 'next-seq': 3, count: 1 });
    expect(parseFrames(second.body).map((f) => ({ seq: f.seq, text: f.payload.toString() }))).toEqual([{ seq: 2, text: 'c' }]);

    const none = await readFrames(socket.id, { from: 3 }).expect(200);
    expect({ length: none.body.length, contentLength: none.headers['content-length'], ...seqHeaders(none) }).toEqual({
      length: 0,
      contentLength: '0',
      from: 3,
      'next-seq': 3,
      count: 0,
      'oldest-seq': 0,
      'end-seq': 3,
      dropped: 0,
    });
  });

  it('long-polls with waitMs until a datagram arrives', async () => {
    const socket = await createSocket();
    const sender = await peer();
    const registry = t.app.get(SocketRegistry);
    const waiting = readFrames(socket.id, { waitMs: 30_000 }).then((r) => r);
    while (registry.getUdpSocket(socket.id).waitingReads === 0) await new Promise((resolve) => setImmediate(resolve));
    await sender.send('late', socket.port);
    const res = await waiting;
    expect(res.status).toBe(200);
    expect(seqHeaders(res)).toMatchObject({ from: 0, 'next-seq': 1, count: 1 });
    expect(parseFrames(res.body)[0]).toMatchObject({ seq: 0, port: sender.port, payload: Buffer.from('late') });
  });

  it('after a release reads from the oldest seq held; released and unknown seqs and sockets answer problem+json', async () => {
    const socket = await createSocket();
    const sender = await peer();
    for (const text of ['one', 'two', 'three']) await sender.send(text, socket.port);
    await kept(socket.id, 3);
    await t.http.delete(`/v1/udp/sockets/${socket.id}/datagrams`).query({ upTo: 2 }).expect(200);

    const rest = await readFrames(socket.id).expect(200);
    expect(seqHeaders(rest)).toEqual({ from: 2, 'next-seq': 3, count: 1, 'oldest-seq': 2, 'end-seq': 3, dropped: 0 });
    expect(parseFrames(rest.body).map((f) => ({ seq: f.seq, text: f.payload.toString() }))).toEqual([{ seq: 2, text: 'three' }]);

    const problem = (query: object, id = socket.id): Promise<Response> => t.http.get(`/v1/udp/sockets/${id}/datagrams`).query(query).set('accept', FRAMES);
    expectProblem(await problem({ from: 1 }), 410, 'OFFSET_RELEASED');
    expectProblem(await problem({ from: 4 }), 416, 'OFFSET_OUT_OF_RANGE');
    expectProblem(await problem({ max: 1001 }), 400, 'VALIDATION_FAILED');
    expectProblem(await problem({}, 'us_nope'), 404, 'SOCKET_NOT_FOUND');
  });

  it('negotiates JSON or frames by Accept, honouring q=0, and answers 406 when Accept takes neither', async () => {
    const socket = await createSocket();
    const sender = await peer();
    await sender.send('x', socket.port);
    await kept(socket.id, 1);
    const typeFor = async (accept: string): Promise<string | undefined> => {
      const res = await readFrames(socket.id, {}, accept).expect(200);
      // Both forms say that the answer depends on Accept, so no cache serves one for the other.
      expect(res.headers.vary).toMatch(/\baccept\b/i);
      return res.headers['content-type'];
    };
    expect(await typeFor('application/json')).toContain('application/json');
    expect(await typeFor('*/*')).toContain('application/json');
    expect(await typeFor('')).toContain('application/json');
    expect(await typeFor(`application/json;q=0.9, ${FRAMES}`)).toBe(FRAMES);
    expect(await typeFor(`Application/Vnd.Sockplane.Datagrams`)).toBe(FRAMES);
    expect(await typeFor(`${FRAMES};q=0, application/json`)).toContain('application/json');
    expect(await typeFor(`${FRAMES};q=0, */*`)).toContain('application/json');
    for (const accept of ['application/octet-stream', `${FRAMES}+json`, `${FRAMES};q=0`, `${FRAMES}; v=2`]) {
      const refused = await t.http.get(`/v1/udp/sockets/${socket.id}/datagrams`).set('accept', accept);
      expectProblem(refused, 406, 'NOT_ACCEPTABLE');
    }
  });

  (hasPython() ? it : it.skip)('parses with the Python struct parser of docs/api.md', async () => {
    const socket = await createSocket();
    const sender = await peer();
    const payloads = [Buffer.from('ping'), Buffer.alloc(0), Buffer.from([0, 0xff])];
    for (const payload of payloads) await sender.send(payload, socket.port);
    await kept(socket.id, payloads.length);
    const res = await readFrames(socket.id).expect(200);
    const receivedAt = parseFrames(res.body).map((f) => f.receivedAt);

    const printed = execFileSync('python3', ['-c', documentedPythonParser()], { input: res.body, encoding: 'utf8' });
    expect(printed.trimEnd().split('\n')).toEqual([
      `0 ${receivedAt[0]} ('127.0.0.1', ${sender.port}) b'ping'`,
      `1 ${receivedAt[1]} ('127.0.0.1', ${sender.port}) b''`,
      `2 ${receivedAt[2]} ('127.0.0.1', ${sender.port}) b'\\x00\\xff'`,
    ]);
  });
});
