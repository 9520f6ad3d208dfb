import { EventsService } from '../../src/events/events.service';
import { TcpPeer, UdpPeer } from '../support/peers';
import { SseClient, SseMessage } from '../support/sse-client';
import { TestApp, startTestApp } from '../support/test-app';

/** The event types one resource went through, in stream order. */
function typesOf(stream: SseClient, resourceId: unknown): string[] {
  return stream.events().filter((e) => e.resourceId === resourceId).map((e) => e.type as string);
}

const isType =
  (type: string, resourceId?: unknown) =>
  (m: SseMessage): boolean =>
    m.event === type && (resourceId === undefined || m.json.resourceId === resourceId);

describe('GET /v1/events', () => {
  let t: TestApp;
  let port: number;
  const streams: SseClient[] = [];
  const open = async (path: string, headers: Record<string, string> = {}): Promise<SseClient> => {
    const stream = await SseClient.open(port, path, headers);
    streams.push(stream);
    return stream;
  };

  beforeAll(async () => {
    t = await startTestApp({ SOCKPLANE_MAX_BUFFERED_BYTES: '1024', SOCKPLANE_EVENT_HEARTBEAT_MS: '20' });
    port = await t.listen();
  });
  afterEach(() => streams.splice(0).forEach((s) => s.close()));
  afterAll(() => t.close());

  it('streams a whole TCP session, in order, for each resource', async () => {
    const stream = await open('/v1/events');
    expect(stream.status).toBe(200);
    expect(stream.response.headers).toMatchObject({ 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });

    const listener = await t.http.post('/v1/tcp/listeners').send({ host: '127.0.0.1', port: 0, labels: { suite: 'events' } }).expect(201);
    const peer = await TcpPeer.connect(listener.body.local.port);
    const accepted = await stream.waitFor(isType('connection.accepted'));
    const connectionId = accepted.json.resourceId;
    await peer.write('Hello, server!');
    await stream.waitFor(isType('connection.data', connectionId));
    await t.http.post(`/v1/tcp/connections/${connectionId}/send`).send({ data: 'Hello, client!' }).expect(200);
    await peer.receive(14);
    const peerPort = peer.socket.localPort;
    peer.socket.end();
    await stream.waitFor(isType('connection.peer-ended', connectionId));
    await t.http.delete(`/v1/tcp/connections/${connectionId}`).expect(200);
    await t.http.delete(`/v1/tcp/listeners/${listener.body.id}`).expect(200);
    await stream.waitFor(isType('listener.closed', listener.body.id));

    expect(typesOf(stream, listener.body.id)).toEqual(['listener.bound', 'listener.closed']);
    expect(typesOf(stream, connectionId)).toEqual(['connection.accepted', 'connection.data', 'connection.peer-ended', 'connection.closed']);
    const ids = stream.messages.map((m) => Number(m.id));
    expect(ids).toEqual(ids.map((_, i) => ids[0] + i));
    expect(stream.messages.map((m) => m.event)).toEqual(stream.events().map((e) => e.type));
    expect(stream.events()).toEqual([
      {
        id: ids[0],
        type: 'listener.bound',
        resourceId: listener.body.id,
        kind: 'tcp-listener',
        at: expect.any(String),
        labels: { suite: 'events' },
        data: { address: '127.0.0.1', port: listener.body.local.port },
      },
      expect.objectContaining({
        type: 'connection.accepted',
        kind: 'tcp-connection',
        labels: { suite: 'events' },
        data: { listenerId: listener.body.id, remoteAddress: '127.0.0.1', remotePort: peerPort },
      }),
      expect.objectContaining({ type: 'connection.data', data: { from: 0, to: 14, byteCount: 14 } }),
      expect.objectContaining({ type: 'connection.peer-ended', data: { endOffset: 14 } }),
      // The closed event carries the final counters.
      expect.objectContaining({ type: 'connection.closed', data: { reason: 'peer-end', errno: null, bytesIn: 14, bytesOut: 14, framesIn: 0, framesOut: 0 } }),
      expect.objectContaining({ type: 'listener.closed', data: { reason: 'local', errno: null } }),
    ]);
    expect(stream.events()[2]).not.toHaveProperty('payload');
  });

  it('streams a UDP exchange, in order, with the datagram and its sender', async () => {
    const stream = await open('/v1/events?kind=udp-socket&payload=utf8');
    const socket = await t.http.post('/v1/udp/sockets').send({ type: 'udp4', labels: { suite: 'events' } }).expect(201);
    const peer = await UdpPeer.bind();
    const peerPort = peer.port;
    try {
      await peer.send('ping', socket.body.local.port);
      await stream.waitFor(isType('udp.datagram', socket.body.id));
      await t.http.post(`/v1/udp/sockets/${socket.body.id}/send`).send({ host: '127.0.0.1', port: peer.port, data: 'pong' }).expect(200);
      await peer.receive(1);
      await t.http.delete(`/v1/udp/sockets/${socket.body.id}`).expect(200);
      await stream.waitFor(isType('udp.closed', socket.body.id));
    } finally {
      await peer.close();
    }

    expect(typesOf(stream, socket.body.id)).toEqual(['udp.bound', 'udp.datagram', 'udp.closed']);
    expect(stream.events()).toEqual([
      expect.objectContaining({ type: 'udp.bound', kind: 'udp-socket', labels: { suite: 'events' }, data: expect.objectContaining({ address: '127.0.0.1', port: socket.body.local.port }) }),
      expect.objectContaining({
        type: 'udp.datagram',
        data: expect.objectContaining({ seq: 0, remoteAddress: '127.0.0.1', remotePort: peerPort }),
        payload: 'ping',
        payloadEncoding: 'utf8',
      }),
      expect.objectContaining({ type: 'udp.closed', data: { reason: 'local', errno: null, bytesIn: 4, bytesOut: 4, datagramsIn: 1, datagramsOut: 1 } }),
    ]);
  });

  it('replays datagrams it received while a stream was away exactly as it streamed them live: data, sender, time and bytes', async () => {
    const socket = await t.http.post('/v1/udp/sockets').send({ type: 'udp4', labels: { suite: 'replay' } }).expect(201);
    const path = `/v1/events?resourceId=${socket.body.id}&type=udp.datagram&payload=hex`;
    const live = await open(path);
    const peers = [await UdpPeer.bind(), await UdpPeer.bind()];
    // Bytes that are not text, an empty datagram and a larger one, from two senders.
    const sent = [Buffer.from([0x00, 0xff, 0x80, 0x0a]), Buffer.alloc(0), Buffer.alloc(1500, 0xab)];
    try {
      for (const [i, bytes] of sent.entries()) await peers[i % 2].send(bytes, socket.body.local.port);
      await live.waitForCount(sent.length);
      const replayed = await open(`${path}&lastEventId=0`);
      await replayed.waitForCount(sent.length);
      expect(replayed.messages.map((m) => m.id)).toEqual(live.messages.map((m) => m.id));
      expect(replayed.events()).toEqual(live.events());
      expect(live.events()).toEqual(
        sent.map((bytes, i) =>
          expect.objectContaining({
            type: 'udp.datagram',
            labels: { suite: 'replay' },
            at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
            data: { seq: i, remoteAddress: '127.0.0.1', remotePort: peers[i % 2].port, size: bytes.length },
            payload: bytes.toString('hex'),
            payloadTruncated: false,
          }),
        ),
      );
    } finally {
      await Promise.all(peers.map((peer) => peer.close()));
      await t.http.delete(`/v1/udp/sockets/${socket.body.id}`).expect(200);
    }
  });

  it('reports an outbound connection, a pause at the buffer cap and the resume, with payloads cut at payloadMaxBytes', async () => {
    const all = await open('/v1/events?kind=tcp-connection');
    const server = await open('/v1/events?label=role:server&payload=hex&payloadMaxBytes=4');
    const listener = await t.http.post('/v1/tcp/listeners').send({ host: '127.0.0.1', port: 0, labels: { role: 'server' } }).expect(201);
    const client = await t.http.post('/v1/tcp/connections').send({ host: '127.0.0.1', port: listener.body.local.port, labels: { role: 'client' } }).expect(201);
    const inbound = (await server.waitFor(isType('connection.accepted'))).json.resourceId;

    // Exactly the buffer cap (SOCKPLANE_MAX_BUFFERED_BYTES=1024), so reading pauses.
    await t.http.post(`/v1/tcp/connections/${client.body.id}/send`).send({ data: 'ab'.repeat(512) }).expect(200);
    await all.waitFor(isType('connection.paused', inbound));
    await t.http.delete(`/v1/tcp/connections/${inbound}/buffer?upTo=1024`).expect(200);
    await t.http.delete(`/v1/tcp/connections/${client.body.id}?mode=reset`).expect(200);
    await all.waitFor(isType('connection.closed', inbound));
    await t.http.delete(`/v1/tcp/listeners/${listener.body.id}`).expect(200);
    await server.waitFor(isType('listener.closed'));

    expect(typesOf(all, client.body.id)).toEqual(['connection.opened', 'connection.closed']);
    expect(typesOf(all, inbound)).toEqual(['connection.accepted', 'connection.data', 'connection.paused', 'connection.resumed', 'connection.closed']);
    expect(all.events().find((e) => e.type === 'connection.paused')?.data).toEqual({ heldBytes: 1024, cause: 'cap' });
    expect(all.events().find((e) => e.type === 'connection.resumed')?.data).toEqual({ heldBytes: 0 });
    expect(all.events().find((e) => e.resourceId === inbound && e.type === 'connection.closed')?.data).toEqual({ reason: 'peer-reset', errno: 'ECONNRESET', bytesIn: 1024, bytesOut: 0, framesIn: 0, framesOut: 0 });

    expect(server.events().map((e) => e.type)).toEqual(['listener.bound', 'connection.accepted', 'connection.data', 'connection.paused', 'connection.resumed', 'connection.closed', 'listener.closed']);
    const data = server.events('connection.data')[0];
    expect(data).toMatchObject({ data: { from: 0, to: 1024, byteCount: 1024 }, payload: '61626162', payloadEncoding: 'hex', payloadTruncated: true });
    expect(server.events('connection.accepted')[0]).not.toHaveProperty('payload');
  });

  it('filters by resource id, kind, event type or family, and label', async () => {
    const a = await t.http.post('/v1/tcp/listeners').send({ host: '127.0.0.1', port: 0, labels: { team: 'a' } }).expect(201);
    const byId = await open(`/v1/events?resourceId=${a.body.id}`);
    const byKind = await open('/v1/events?kind=tcp-listener');
    const byType = await open('/v1/events?type=connection.*&type=listener.closed');
    const byLabel = await open('/v1/events?label=team:b');
    const b = await t.http.post('/v1/tcp/listeners').send({ host: '127.0.0.1', port: 0, labels: { team: 'b' } }).expect(201);
    const peer = await TcpPeer.connect(b.body.local.port);
    const accepted = await byLabel.waitFor(isType('connection.accepted'));
    peer.socket.end();
    await byType.waitFor(isType('connection.peer-ended'));
    await t.http.delete(`/v1/tcp/listeners/${b.body.id}?closeConnections=true`).expect(200);
    await t.http.delete(`/v1/tcp/listeners/${a.body.id}`).expect(200);

    await byId.waitFor(isType('listener.closed', a.body.id));
    expect(byId.events().map((e) => `${e.type} ${e.resourceId}`)).toEqual([`listener.closed ${a.body.id}`]);

    await byKind.waitFor(isType('listener.closed', a.body.id));
    expect(byKind.events().map((e) => `${e.type} ${e.resourceId}`)).toEqual([`listener.bound ${b.body.id}`, `listener.closed ${b.body.id}`, `listener.closed ${a.body.id}`]);

    await byType.waitFor(isType('listener.closed', a.body.id));
    expect(byType.events().map((e) => e.type)).toEqual(['connection.accepted', 'connection.peer-ended', 'listener.closed', 'connection.closed', 'listener.closed']);

    await byLabel.waitFor(isType('connection.closed'));
    expect(byLabel.events().map((e) => `${e.type} ${e.resourceId}`)).toEqual([
      `listener.bound ${b.body.id}`,
      `connection.accepted ${accepted.json.resourceId}`,
      `connection.peer-ended ${accepted.json.resourceId}`,
      `listener.closed ${b.body.id}`,
      `connection.closed ${accepted.json.resourceId}`,
    ]);
  });

  it('resumes after Last-Event-ID (header or lastEventId) without losing or repeating an event', async () => {
    const first = await open('/v1/events?kind=tcp-listener');
    const one = await t.http.post('/v1/tcp/listeners').send({ host: '127.0.0.1', port: 0 }).expect(201);
    const seen = await first.waitFor(isType('listener.bound', one.body.id));
    first.close();

    // While no stream is open.
    const two = await t.http.post('/v1/tcp/listeners').send({ host: '127.0.0.1', port: 0 }).expect(201);
    await t.http.delete(`/v1/tcp/listeners/${one.body.id}`).expect(200);

    const expected = [`listener.bound ${two.body.id}`, `listener.closed ${one.body.id}`];
    const byHeader = await open('/v1/events?kind=tcp-listener&lastEventId=0', { 'last-event-id': String(seen.id) });
    const byQuery = await open(`/v1/events?kind=tcp-listener&lastEventId=${seen.id}`);
    for (const resumed of [byHeader, byQuery]) {
      await resumed.waitForCount(2);
      expect(resumed.events().map((e) => `${e.type} ${e.resourceId}`)).toEqual(expected);
      expect(Number(resumed.messages[0].id)).toBeGreaterThan(Number(seen.id));
    }

    // Then live events follow the replay.
    await t.http.delete(`/v1/tcp/listeners/${two.body.id}`).expect(200);
    for (const resumed of [byHeader, byQuery]) {
      await resumed.waitFor(isType('listener.closed', two.body.id));
      expect(resumed.events().map((e) => `${e.type} ${e.resourceId}`)).toEqual([...expected, `listener.closed ${two.body.id}`]);
    }
  });

  it('sends a ": ping" comment on an idle stream', async () => {
    const stream = await open('/v1/events?resourceId=tl_00000000000000000000');
    await stream.waitForComment('ping');
    expect(stream.messages).toEqual([]);
  });

  it('answers HEAD with the stream headers and no body', async () => {
    const res = await t.http.head('/v1/events').expect(200);
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(t.app.get(EventsService).stats()).toEqual([]);
  });

  it.each([
    ['type=connection.bogus', 'type'],
    ['type=tcp.*', 'type'],
    ['kind=socket', 'kind'],
    ['resourceId=xx_1', 'resourceId'],
    ['label=nocolon', 'label'],
    ['payload=latin1', 'payload'],
    ['payload=hex&payloadMaxBytes=0', 'payloadMaxBytes'],
    ['lastEventId=-1', 'lastEventId'],
    ['since=1', 'since'],
  ])('answers 400 problem+json before streaming for ?%s', async (query, field) => {
    const res = await t.http.get(`/v1/events?${query}`).expect(400);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', errors: [expect.objectContaining({ field })] });
  });

  it('answers 400 for a Last-Event-ID that is not an event id', async () => {
    const res = await t.http.get('/v1/events').set('last-event-id', 'abc').expect(400);
    expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'Last-Event-ID', message: expect.any(String) }] });
  });
});

describe('GET /v1/events › with a small history', () => {
  let t: TestApp;
  let port: number;

  beforeAll(async () => {
    t = await startTestApp({ SOCKPLANE_EVENT_HISTORY: '5' });
    port = await t.listen();
    // Events 1…12: six listeners opened and closed.
    for (let i = 0; i < 6; i++) {
      const listener = await t.http.post('/v1/tcp/listeners').send({ host: '127.0.0.1', port: 0 }).expect(201);
      await t.http.delete(`/v1/tcp/listeners/${listener.body.id}`).expect(200);
    }
  });
  afterAll(() => t.close());

  it.each([
    [2, { firstId: 3, lastId: 7, skipped: 5 }],
    [0, { firstId: 1, lastId: 7, skipped: 7 }],
  ])('after id %i: a gap for what the history no longer holds, then the rest', async (lastEventId, gap) => {
    const stream = await SseClient.open(port, `/v1/events?lastEventId=${lastEventId}`);
    const messages = await stream.waitForCount(6);
    stream.close();
    expect(messages[0]).toMatchObject({ event: 'gap', id: null, json: { type: 'gap', reason: 'history', ...gap } });
    expect(messages.slice(1).map((m) => m.id)).toEqual(['8', '9', '10', '11', '12']);
  });

  it('a resume id it never gave out (the service restarted): a gap of unknown size, then all it holds', async () => {
    const stream = await SseClient.open(port, '/v1/events', { 'last-event-id': '99' });
    const messages = await stream.waitForCount(6);
    stream.close();
    expect(messages[0].json).toMatchObject({ type: 'gap', reason: 'unknown-id', skipped: null, firstId: null, lastId: null });
    expect(messages.slice(1).map((m) => m.id)).toEqual(['8', '9', '10', '11', '12']);
  });
});

describe('GET /v1/events › a reader that does not keep up', () => {
  const QUEUE = 64;
  let t: TestApp;
  let port: number;
  let closed = false;

  beforeAll(async () => {
    t = await startTestApp({ SOCKPLANE_EVENT_QUEUE: String(QUEUE) });
    port = await t.listen();
  });
  afterAll(async () => {
    if (!closed) await t.close();
  });

  const statsOfStalled = (): ReturnType<EventsService['stats']> => t.app.get(EventsService).stats().filter((s) => s.waitingForDrain);

  let stalled: SseClient;

  it('never holds up the sockets, holds at most its queue, and learns what it missed from a gap', async () => {
    const dataTypes = 'type=connection.data&type=connection.peer-ended';
    const listener = await t.http.post('/v1/tcp/listeners').send({ host: '127.0.0.1', port: 0, mode: 'discard' }).expect(201);
    const fast = await SseClient.open(port, `/v1/events?${dataTypes}`);
    const slow = await SseClient.open(port, `/v1/events?${dataTypes}&payload=hex`);
    stalled = await SseClient.open(port, `/v1/events?${dataTypes}&payload=hex`);
    slow.pause();
    stalled.pause();

    // Send until both paused readers have fallen behind by more than their queue. The kernel's
    // socket buffers decide how much that takes, so the loop watches the service, not a size.
    const peer = await TcpPeer.connect(listener.body.local.port);
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    let sent = 0;
    while (statsOfStalled().filter((s) => s.skipped > 0).length < 2 || fast.events('connection.data').length < 2000) {
      if (sent >= 1024 * chunk.length) throw new Error(`nothing was skipped after ${sent} bytes: ${JSON.stringify(statsOfStalled())}`);
      await peer.write(chunk);
      sent += chunk.length;
    }
    peer.socket.end();
    const ended = await fast.waitFor(isType('connection.peer-ended'));
    const connectionId = ended.json.resourceId;

    // Every byte was read while the two readers stalled.
    expect(ended.json.data).toEqual({ endOffset: sent });
    const connection = await t.http.get(`/v1/tcp/connections/${connectionId}`).expect(200);
    expect(connection.body.counters.bytesIn).toBe(sent);
    for (const stats of statsOfStalled()) {
      expect(stats).toMatchObject({ queueLimit: QUEUE, waitingForDrain: true });
      expect(stats.queued).toBeLessThanOrEqual(QUEUE);
      expect(stats.skipped).toBeGreaterThan(0);
    }

    // Reading again, the slow reader gets what was queued, then one gap per run it skipped; the
    // last run reaches the end, which came while its queue was still full.
    slow.resume();
    await slow.waitFor((m) => m.event === 'gap' && Number(m.json.lastId) >= Number(ended.json.id));
    const gaps = slow.events('gap');
    expect(gaps.every((g) => g.reason === 'slow-consumer')).toBe(true);
    const published = fast.events();
    const delivered = new Set(slow.events().map((e) => e.id));
    const lost = new Set(published.filter((e) => gaps.some((g) => Number(e.id) >= Number(g.firstId) && Number(e.id) <= Number(g.lastId))).map((e) => e.id));
    expect(gaps.reduce((sum, g) => sum + Number(g.skipped), 0)).toBe(lost.size);
    expect(published.every((e) => delivered.has(e.id) !== lost.has(e.id))).toBe(true);
    expect(delivered.size + lost.size).toBe(published.length);
    expect(slow.events()[0]).toMatchObject({ payloadEncoding: 'hex', payloadTruncated: false });
    fast.close();
    slow.close();
  });

  it('app.close() ends the streams, even one whose reader stopped reading', async () => {
    expect(statsOfStalled()).toHaveLength(1);
    closed = true;
    await t.close();
    stalled.resume();
    await stalled.waitForEnd();
  });
});
