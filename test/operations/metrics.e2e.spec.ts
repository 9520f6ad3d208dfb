import { once } from 'node:events';
import { Server, createServer } from 'node:net';
import { Exposition, parsePrometheusText, sampleValue } from '../support/prometheus';
import { TcpPeer, UdpPeer, eventually } from '../support/peers';
import { TestApp, startTestApp } from '../support/test-app';
import { closeWs, inboxOf, openWs } from '../support/ws-client';

const CONNECTION = { kind: 'tcp-connection' };

describe('GET /metrics', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ SOCKPLANE_MAX_BUFFERED_BYTES: '4096' });
  });
  afterAll(() => t.close());

  async function scrape(): Promise<Exposition> {
    const res = await t.http.get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheusText(res.text);
  }

  it('answers the Prometheus text format with typed, documented families and the process metrics', async () => {
    const metrics = await scrape();
    expect(metrics.families.get('sockplane_sockets')).toMatchObject({ type: 'gauge', help: expect.stringMatching(/\w/) });
    expect(metrics.families.get('sockplane_received_bytes_total')?.type).toBe('counter');
    expect(metrics.families.get('sockplane_http_request_duration_seconds')?.type).toBe('histogram');
    expect(metrics.families.get('process_cpu_user_seconds_total')?.type).toBe('counter');
    expect(sampleValue(metrics, 'sockplane_sockets_limit')).toBe(20000);
  });

  it('counts frames in and out, and keeps them once the connection is forgotten', async () => {
    const before = await scrape();
    const listener = await t.http.post('/v1/tcp/listeners').send({ host: '127.0.0.1', port: 0, framing: { type: 'lines', maxFrameBytes: 1024 } }).expect(201);
    const peer = await TcpPeer.connect(listener.body.local.port);
    const accepted = await t.http.get(`/v1/tcp/listeners/${listener.body.id}/connections`).query({ waitMs: 5000 }).expect(200);
    const id: string = accepted.body.items[0].id;
    await peer.write('a\nb\nc\n');
    await t.http.get(`/v1/tcp/connections/${id}/frames`).query({ waitMs: 5000, minFrames: 3 }).expect(200);
    await t.http.post(`/v1/tcp/connections/${id}/send`).send({ frames: [{ data: 'x' }, { data: 'y' }] }).expect(200);
    const delta = (now: Exposition, name: string): number => sampleValue(now, name) - sampleValue(before, name);
    const during = await scrape();
    expect([delta(during, 'sockplane_received_frames_total'), delta(during, 'sockplane_sent_frames_total')]).toEqual([3, 2]);
    await t.http.delete(`/v1/tcp/connections/${id}`).expect(200);
    await t.http.delete(`/v1/tcp/listeners/${listener.body.id}`).expect(200);
    const after = await scrape();
    expect([delta(after, 'sockplane_received_frames_total'), delta(after, 'sockplane_sent_frames_total')]).toEqual([3, 2]);
  });

  it('counts rule matches by trigger, and WebSockets attached now and detached by close code', async () => {
    const before = await scrape();
    const rules = { rules: [{ on: 'connect', then: [{ send: 'hello\n' }] }, { match: { equals: 'ping' }, then: [{ send: 'pong', frame: true }] }] };
    const listener = await t.http.post('/v1/tcp/listeners').send({ host: '127.0.0.1', port: 0, framing: { type: 'lines' }, rules }).expect(201);
    const peer = await TcpPeer.connect(listener.body.local.port);
    await peer.write('ping\nping\n');
    expect((await peer.receive(18)).toString()).toBe('hello\npong\r\npong\r\n');
    const delta = (now: Exposition, name: string, labels: Record<string, string>): number => sampleValue(now, name, labels) - sampleValue(before, name, labels);
    const matched = await scrape();
    expect([delta(matched, 'sockplane_rule_matches_total', { ...CONNECTION, trigger: 'connect' }), delta(matched, 'sockplane_rule_matches_total', { ...CONNECTION, trigger: 'frame' })]).toEqual([1, 2]);

    const accepted = await t.http.get(`/v1/tcp/listeners/${listener.body.id}/connections`).query({ waitMs: 5000 }).expect(200);
    const ws = await openWs(await t.listen(), `/v1/tcp/connections/${accepted.body.items[0].id as string}/attach?fromOffset=0`, { protocol: 'sockplane.raw.v1' });
    await inboxOf(ws).until((messages) => Buffer.concat(messages).length >= 10);
    expect(sampleValue(await scrape(), 'sockplane_attachments', CONNECTION)).toBe(1);
    await closeWs(ws);
    await eventually(async () => expect(sampleValue(await scrape(), 'sockplane_attachments', CONNECTION)).toBe(0));
    expect(delta(await scrape(), 'sockplane_attach_detaches_total', { ...CONNECTION, code: '1000' })).toBe(1);
    peer.socket.destroy();
    await t.http.delete(`/v1/tcp/listeners/${listener.body.id}?closeConnections=true`).expect(200);
  });

  it('moves exactly with a TCP session: accept, N bytes in, M bytes out, close', async () => {
    const before = await scrape();
    const listener = await t.http.post('/v1/tcp/listeners').send({ host: '127.0.0.1', port: 0 }).expect(201);
    const peer = await TcpPeer.connect(listener.body.local.port);
    const accepted = await t.http.get(`/v1/tcp/listeners/${listener.body.id}/connections`).query({ waitMs: 5000 }).expect(200);
    const id: string = accepted.body.items[0].id;

    const inbound = Buffer.alloc(1000, 'a');
    await peer.write(inbound);
    await t.http.get(`/v1/tcp/connections/${id}/buffer`).query({ waitMs: 5000, minBytes: inbound.length }).expect(200);
    await t.http.post(`/v1/tcp/connections/${id}/send`).send({ data: 'b'.repeat(321) }).expect(200);
    await peer.receive(321);

    const during = await scrape();
    expect(sampleValue(during, 'sockplane_tcp_accepts_total') - sampleValue(before, 'sockplane_tcp_accepts_total')).toBe(1);
    expect(sampleValue(during, 'sockplane_received_bytes_total', CONNECTION) - sampleValue(before, 'sockplane_received_bytes_total', CONNECTION)).toBe(1000);
    expect(sampleValue(during, 'sockplane_sent_bytes_total', CONNECTION) - sampleValue(before, 'sockplane_sent_bytes_total', CONNECTION)).toBe(321);
    expect(sampleValue(during, 'sockplane_buffered_bytes', CONNECTION)).toBe(1000);
    expect(sampleValue(during, 'sockplane_sockets', { kind: 'tcp-listener', state: 'listening' })).toBe(1);
    expect(sampleValue(during, 'sockplane_sockets', { kind: 'tcp-connection', state: 'open' })).toBe(1);

    await t.http.delete(`/v1/tcp/connections/${id}`).expect(200);
    await peer.whenClosed();
    await t.http.delete(`/v1/tcp/listeners/${listener.body.id}`).expect(200);

    const after = await scrape();
    // Forgotten sockets keep their bytes in the totals; nothing is held any more.
    expect(sampleValue(after, 'sockplane_received_bytes_total', CONNECTION) - sampleValue(before, 'sockplane_received_bytes_total', CONNECTION)).toBe(1000);
    expect(sampleValue(after, 'sockplane_sent_bytes_total', CONNECTION) - sampleValue(before, 'sockplane_sent_bytes_total', CONNECTION)).toBe(321);
    expect(sampleValue(after, 'sockplane_buffered_bytes', CONNECTION)).toBe(0);
    expect(after.samples.filter((s) => s.name === 'sockplane_sockets')).toEqual([]);

    const sends = { method: 'POST', route: '/v1/tcp/connections/:id/send', status: '200' };
    const count = 'sockplane_http_request_duration_seconds_count';
    expect(sampleValue(after, count, sends) - sampleValue(before, count, sends)).toBe(1);
    // Cardinality stays bounded: route patterns, never ids or raw URLs.
    const labelValues = after.samples.flatMap((s) => Object.values(s.labels));
    expect(labelValues.filter((v) => /t[lc]_[0-9a-z]{6}/.test(v) || v.includes('?'))).toEqual([]);
  });

  it('moves exactly with a UDP session: datagrams in, drops past the cap, datagrams out', async () => {
    const app = await startTestApp({ SOCKPLANE_UDP_MAX_DATAGRAMS: '2' });
    const scrapeApp = async (): Promise<Exposition> => parsePrometheusText((await app.http.get('/metrics').expect(200)).text);
    const UDP = { kind: 'udp-socket' };
    const peer = await UdpPeer.bind();
    try {
      const socket = await app.http.post('/v1/udp/sockets').send({ type: 'udp4' }).expect(201);
      for (const text of ['one', 'two', 'three']) await peer.send(text, socket.body.local.port);
      // The third finds the log at its cap of two: dropped and counted.
      await eventually(async () => expect((await app.http.get(`/v1/udp/sockets/${socket.body.id}`)).body.counters).toMatchObject({ dropped: 1 }));
      await app.http.post(`/v1/udp/sockets/${socket.body.id}/send`).send({ host: '127.0.0.1', port: peer.port, data: 'hello' }).expect(200);
      await peer.receive(1);

      const metrics = await scrapeApp();
      expect(sampleValue(metrics, 'sockplane_received_datagrams_total', UDP)).toBe(2);
      expect(sampleValue(metrics, 'sockplane_received_bytes_total', UDP)).toBe(6);
      expect(sampleValue(metrics, 'sockplane_dropped_datagrams_total', { reason: 'maxDatagrams' })).toBe(1);
      expect(sampleValue(metrics, 'sockplane_sent_datagrams_total', UDP)).toBe(1);
      expect(sampleValue(metrics, 'sockplane_sent_bytes_total', UDP)).toBe(5);
      expect(sampleValue(metrics, 'sockplane_sockets', { kind: 'udp-socket', state: 'bound' })).toBe(1);

      await app.http.delete(`/v1/udp/sockets/${socket.body.id}`).expect(200);
      const after = await scrapeApp();
      expect(sampleValue(after, 'sockplane_sent_datagrams_total', UDP)).toBe(1);
      expect(sampleValue(after, 'sockplane_sent_bytes_total', UDP)).toBe(5);
    } finally {
      await peer.close();
      await app.close();
    }
  });

  it('counts outbound connects by outcome', async () => {
    const server: Server = createServer((socket) => socket.end());
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    const before = await scrape();
    try {
      const conn = await t.http.post('/v1/tcp/connections').send({ host: '127.0.0.1', port }).expect(201);
      await t.http.delete(`/v1/tcp/connections/${conn.body.id}`).expect(200);
    } finally {
      server.close();
      await once(server, 'close');
    }
    await t.http.post('/v1/tcp/connections').send({ host: '127.0.0.1', port }).expect(502);

    const after = await scrape();
    const delta = (outcome: string): number => sampleValue(after, 'sockplane_tcp_connects_total', { outcome }) - sampleValue(before, 'sockplane_tcp_connects_total', { outcome });
    expect(delta('connected')).toBe(1);
    expect(delta('CONNECTION_REFUSED')).toBe(1);
  });

  it('counts backpressure pauses and connections a listener dropped', async () => {
    const before = await scrape();
    const listener = await t.http.post('/v1/tcp/listeners').send({ host: '127.0.0.1', port: 0, maxConnections: 1 }).expect(201);
    const peer = await TcpPeer.connect(listener.body.local.port);
    // More than SOCKPLANE_MAX_BUFFERED_BYTES (4096): reading pauses until the caller releases.
    await peer.write(Buffer.alloc(10_000, 'x'));
    const extra = await TcpPeer.connect(listener.body.local.port);
    await extra.whenClosed();

    await eventually(async () => {
      const during = await scrape();
      expect(sampleValue(during, 'sockplane_backpressure_pauses_total', CONNECTION) - sampleValue(before, 'sockplane_backpressure_pauses_total', CONNECTION)).toBe(1);
      expect(sampleValue(during, 'sockplane_dropped_connections_total', { reason: 'max-connections' }) - sampleValue(before, 'sockplane_dropped_connections_total', { reason: 'max-connections' })).toBe(1);
    });
    await t.http.delete(`/v1/tcp/listeners/${listener.body.id}?closeConnections=true`).expect(200);
    await peer.whenClosed();
  });
});
