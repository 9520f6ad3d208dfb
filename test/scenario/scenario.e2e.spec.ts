import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { parse, stringify } from 'yaml';
import { FAKE_SERVERS_SCENARIO } from '../../src/scenario/scenario-examples';
import { TcpPeer } from '../support/peers';
import { TestApp, startTestApp } from '../support/test-app';
import { TempDir } from '../support/tls';

interface Exported {
  tcpListeners: { name: string; port: number }[];
  udpSockets: { name: string; port: number }[];
  tcpProxies: { name: string; listen: { port: number } }[];
}

const portsOf = (scenario: Exported): Record<string, number> =>
  Object.fromEntries([...scenario.tcpListeners.map((l) => [`tcp/${l.name}`, l.port]), ...scenario.udpSockets.map((s) => [`udp/${s.name}`, s.port])]);

describe('PUT and GET /v1/scenario', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('applies idempotently: unchanged resources keep their ports and open connections; rules change in place; removed ones close; export → apply round-trips', async () => {
    const first = await t.http.put('/v1/scenario').send(FAKE_SERVERS_SCENARIO).expect(200);
    expect(first.body).toMatchObject({ created: ['tcpListeners/smtp', 'tcpListeners/kv', 'udpSockets/dns'], kept: [], removed: [] });
    const ports = portsOf(first.body.scenario);
    expect(Object.values(ports).every((port) => port > 0)).toBe(true);

    const client = await TcpPeer.connect(ports['tcp/kv']);
    await client.write('PING\n');
    expect((await client.receive(6)).toString()).toBe('PONG\r\n');

    const again = await t.http.put('/v1/scenario').send(FAKE_SERVERS_SCENARIO).expect(200);
    expect(again.body).toMatchObject({ created: [], replaced: [], kept: ['tcpListeners/smtp', 'tcpListeners/kv', 'udpSockets/dns'] });
    expect(portsOf(again.body.scenario)).toEqual(ports);

    const exported = await t.http.get('/v1/scenario').expect(200);
    expect(portsOf(exported.body)).toEqual(ports);
    const roundTrip = await t.http.put('/v1/scenario').send(exported.body).expect(200);
    expect(roundTrip.body).toMatchObject({ created: [], replaced: [], kept: ['tcpListeners/smtp', 'tcpListeners/kv', 'udpSockets/dns'] });
    expect(roundTrip.body.scenario).toEqual(exported.body);

    // The connection accepted before the re-applies still gets answers.
    await client.write('PING\n');
    expect((await client.receive(12)).toString()).toBe('PONG\r\nPONG\r\n');

    const kv = { ...FAKE_SERVERS_SCENARIO.tcpListeners[1], rules: { rules: [{ match: { equals: 'PING' }, then: [{ send: 'PONG v2', frame: true }] }] } };
    const changed = await t.http.put('/v1/scenario').send({ tcpListeners: [FAKE_SERVERS_SCENARIO.tcpListeners[0], kv] }).expect(200);
    expect(changed.body).toMatchObject({ updated: ['tcpListeners/kv'], kept: ['tcpListeners/smtp'], removed: ['udpSockets/dns'] });
    expect(portsOf(changed.body.scenario)).toEqual({ 'tcp/smtp': ports['tcp/smtp'], 'tcp/kv': ports['tcp/kv'] });
    const newcomer = await TcpPeer.connect(ports['tcp/kv']);
    await newcomer.write('PING\n');
    expect((await newcomer.receive(9)).toString()).toBe('PONG v2\r\n');
    const sockets = await t.http.get('/v1/udp/sockets').query({ label: 'demo:scenario' }).expect(200);
    expect(sockets.body.items).toEqual([]);

    const moved = await t.http.put('/v1/scenario').send({ tcpListeners: [{ ...kv, framing: { type: 'crlf' } }] }).expect(200);
    expect(moved.body).toMatchObject({ replaced: ['tcpListeners/kv'], removed: ['tcpListeners/smtp'] });
    await client.whenClosed();
    newcomer.socket.destroy();

    const cleared = await t.http.put('/v1/scenario').send({}).expect(200);
    expect(cleared.body).toMatchObject({ removed: ['tcpListeners/kv'], scenario: { tcpListeners: [], udpSockets: [] } });
    const listeners = await t.http.get('/v1/tcp/listeners').query({ label: 'demo:scenario' }).expect(200);
    expect(listeners.body.items).toEqual([]);
  });

  it('refuses a bad scenario whole, naming the field, before anything changes', async () => {
    await t.http.put('/v1/scenario').send({ tcpListeners: [{ name: 'keep-me', port: 0 }] }).expect(200);
    const badRules = await t.http
      .put('/v1/scenario')
      .send({ tcpListeners: [{ name: 'a', port: 0 }, { name: 'b', port: 0, rules: { rules: [{ match: { regex: '(' }, then: [] }] } }] })
      .expect(400);
    expect(badRules.body.errors).toEqual([{ field: 'tcpListeners[1].rules.rules[0].match.regex', message: expect.stringContaining('not a valid RE2 pattern') }]);
    const twice = await t.http.put('/v1/scenario').send({ udpSockets: [{ name: 'x', type: 'udp4', port: 0 }, { name: 'x', type: 'udp4', port: 0 }] }).expect(400);
    expect(twice.body.errors[0]).toMatchObject({ field: 'udpSockets[1].name', message: expect.stringContaining('two entries named x') });
    const unnamed = await t.http.put('/v1/scenario').send({ tcpListeners: [{ port: 0 }] }).expect(400);
    expect(unnamed.body.errors[0]).toMatchObject({ field: 'tcpListeners[0].name' });
    const placed = await t.http.put('/v1/scenario').send({ tcpListeners: [{ name: 'placed', port: 0, placement: { spread: true } }] }).expect(400);
    expect(placed.body.errors[0]).toMatchObject({ field: 'tcpListeners[0].placement', message: expect.stringContaining('made on the node it is applied on') });
    expect((await t.http.get('/v1/scenario').expect(200)).body.tcpListeners.map((l: { name: string }) => l.name)).toEqual(['keep-me']);
    await t.http.put('/v1/scenario').send({}).expect(200);
  });

  it('an apply that fails part-way (a port in use) answers the problem and leaves the scenario as it was: what it opened is closed, what it removed is open again on its port', async () => {
    const before = await t.http.put('/v1/scenario').send({ tcpListeners: [{ name: 'stays', port: 0 }, { name: 'goes', port: 0 }] }).expect(200);
    const ports = portsOf(before.body.scenario);
    const taken = createServer();
    taken.listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const busyPort = (taken.address() as { port: number }).port;
    try {
      const failed = await t.http
        .put('/v1/scenario')
        .send({ tcpListeners: [{ name: 'stays', port: 0 }, { name: 'fresh', port: 0 }, { name: 'clash', host: '127.0.0.1', port: busyPort }] })
        .expect(409);
      expect(failed.body.code).toBe('ADDRESS_IN_USE');
    } finally {
      taken.close();
      await once(taken, 'close');
    }
    const after = await t.http.get('/v1/scenario').expect(200);
    expect(portsOf(after.body)).toEqual(ports);
    const names = (await t.http.get('/v1/tcp/listeners').expect(200)).body.items.map((l: { name: string | null }) => l.name);
    expect(names).not.toContain('fresh');
    const peer = await TcpPeer.connect(ports['tcp/goes']);
    peer.socket.destroy();
    await t.http.put('/v1/scenario').send({}).expect(200);
  });

  it('the YAML scenario of docs/scenarios.md applies as written, and its key-value server answers', async () => {
    const page = readFileSync(join(__dirname, '..', '..', 'docs', 'scenarios.md'), 'utf8');
    const yaml = /```yaml\n([\s\S]*?)```/.exec(page)?.[1] ?? '';
    const applied = await t.http.put('/v1/scenario').send(parse(yaml)).expect(200);
    expect(applied.body.created).toEqual(['tcpListeners/kv', 'udpSockets/dns', 'tcpProxies/db']);
    const peer = await TcpPeer.connect(portsOf(applied.body.scenario)['tcp/kv']);
    await peer.write('GET colour\nQUIT\n');
    await peer.whenClosed();
    expect(peer.received.toString()).toBe('VALUE colour 42\r\nBYE\r\n');
    await t.http.put('/v1/scenario').send({}).expect(200);
  });

  describe('TCP proxies', () => {
    // A replaced or removed proxy resets both halves of its pairs, this end of the upstream's too.
    const echo = createServer((socket) => socket.on('error', () => undefined).pipe(socket));
    let upstream: { host: string; port: number };
    beforeAll(async () => {
      echo.listen(0, '127.0.0.1');
      await once(echo, 'listening');
      upstream = { host: '127.0.0.1', port: (echo.address() as { port: number }).port };
    });
    afterAll(() => echo.close());

    const proxyEntry = (faults: object[]) => ({ name: 'db', listen: { port: 0 }, upstream, labels: { demo: 'scenario' }, faults });
    const proxyPort = (scenario: { tcpProxies: { listen: { port: number } }[] }): number => scenario.tcpProxies[0].listen.port;

    it('applies a proxy with its faults: unchanged it keeps its port and relayed connections, a changed fault replaces it, removed it closes; export → apply round-trips', async () => {
      const latency = [{ name: 'slow', type: 'latency', direction: 'toPeer', attributes: { ms: 1 } }];
      const first = await t.http.put('/v1/scenario').send({ tcpProxies: [proxyEntry(latency)] }).expect(200);
      expect(first.body).toMatchObject({ created: ['tcpProxies/db'] });
      const port = proxyPort(first.body.scenario);
      expect(port).toBeGreaterThan(0);
      const proxies = await t.http.get('/v1/tcp/proxies').query({ label: 'demo:scenario' }).expect(200);
      expect(proxies.body.items).toEqual([expect.objectContaining({ name: 'db', faults: [expect.any(String)] })]);

      const client = await TcpPeer.connect(port);
      await client.write('hello');
      expect((await client.receive(5)).toString()).toBe('hello');

      const again = await t.http.put('/v1/scenario').send({ tcpProxies: [proxyEntry(latency)] }).expect(200);
      expect(again.body).toMatchObject({ created: [], replaced: [], kept: ['tcpProxies/db'] });
      const exported = await t.http.get('/v1/scenario').expect(200);
      expect(proxyPort(exported.body)).toBe(port);
      const roundTrip = await t.http.put('/v1/scenario').send(exported.body).expect(200);
      expect(roundTrip.body).toMatchObject({ kept: ['tcpProxies/db'] });
      expect(roundTrip.body.scenario).toEqual(exported.body);
      await client.write('again');
      expect((await client.receive(10)).toString()).toBe('helloagain');

      const changed = await t.http.put('/v1/scenario').send({ tcpProxies: [proxyEntry([])] }).expect(200);
      expect(changed.body).toMatchObject({ replaced: ['tcpProxies/db'], kept: [] });
      await client.whenClosed();
      const relayed = await TcpPeer.connect(proxyPort(changed.body.scenario));
      await relayed.write('new');
      expect((await relayed.receive(3)).toString()).toBe('new');
      const replaced = await t.http.get('/v1/tcp/proxies').query({ label: 'demo:scenario' }).expect(200);
      expect(replaced.body.items).toEqual([expect.objectContaining({ name: 'db', faults: [] })]);

      const cleared = await t.http.put('/v1/scenario').send({}).expect(200);
      expect(cleared.body).toMatchObject({ removed: ['tcpProxies/db'], scenario: { tcpProxies: [] } });
      await relayed.whenClosed();
      expect((await t.http.get('/v1/tcp/proxies').query({ label: 'demo:scenario' }).expect(200)).body.items).toEqual([]);
    });

    it('a proxy with a bad inline fault refuses the scenario whole, naming the field within it, and leaves nothing open', async () => {
      const res = await t.http
        .put('/v1/scenario')
        .send({ tcpListeners: [{ name: 'before-it', port: 0, labels: { demo: 'scenario' } }], tcpProxies: [proxyEntry([{ type: 'latency', attributes: { ms: -1 } }])] })
        .expect(400);
      expect(res.body.errors).toEqual([{ field: 'tcpProxies[0].faults[0].attributes.ms', message: expect.stringContaining('whole number') }]);
      expect((await t.http.get('/v1/tcp/listeners').query({ label: 'demo:scenario' }).expect(200)).body.items).toEqual([]);
      expect((await t.http.get('/v1/tcp/proxies').query({ label: 'demo:scenario' }).expect(200)).body.items).toEqual([]);
      expect((await t.http.get('/v1/scenario').expect(200)).body).toEqual({ tcpListeners: [], udpSockets: [], tcpProxies: [] });
    });
  });

  it('a name is unique per owner among listeners: a second POST with it answers 409 NAME_IN_USE', async () => {
    const first = await t.http.post('/v1/tcp/listeners').send({ port: 0, name: 'only-one' }).expect(201);
    expect(first.body.name).toBe('only-one');
    const second = await t.http.post('/v1/tcp/listeners').send({ port: 0, name: 'only-one' }).expect(409);
    expect(second.body).toMatchObject({ code: 'NAME_IN_USE', name: 'only-one' });
    await t.http.delete(`/v1/tcp/listeners/${first.body.id}`).expect(200);
  });
});

describe('SOCKPLANE_SCENARIO_FILE', () => {
  let dir: TempDir;
  beforeAll(async () => {
    dir = await TempDir.create();
  });
  afterAll(() => dir.remove());

  it('a YAML scenario applied at start is served before the first request', async () => {
    const file = await dir.write('fake-servers.yaml', stringify(FAKE_SERVERS_SCENARIO));
    const t = await startTestApp({ SOCKPLANE_SCENARIO_FILE: file });
    try {
      const exported = await t.http.get('/v1/scenario').expect(200);
      const peer = await TcpPeer.connect(portsOf(exported.body)['tcp/smtp']);
      expect((await peer.receive(38)).toString()).toBe('220 smtp.example.test ESMTP sockplane\r\n');
      peer.socket.destroy();
    } finally {
      await t.close();
    }
  });

  it('a scenario file that cannot be applied stops the start, naming the file and the field', async () => {
    const file = await dir.write('bad.json', JSON.stringify({ tcpListeners: [{ name: 'x', port: 0, rules: { rules: [{ on: 'sometimes', then: [] }] } }] }));
    await expect(startTestApp({ SOCKPLANE_SCENARIO_FILE: file })).rejects.toThrow(`SOCKPLANE_SCENARIO_FILE ${file} cannot be applied: tcpListeners[0].rules.rules[0].on must be one of`);
  });

  it('a start that fails part-way closes what the scenario had opened: its port is free again', async () => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as { port: number }).port;
    probe.close();
    await once(probe, 'close');
    const file = await dir.write('clash.json', JSON.stringify({ tcpListeners: [{ name: 'first', port }, { name: 'second', port }] }));
    await expect(startTestApp({ SOCKPLANE_SCENARIO_FILE: file })).rejects.toThrow(/cannot be applied: .*EADDRINUSE/);
    const again = createServer();
    again.listen(port, '127.0.0.1');
    await once(again, 'listening');
    again.close();
    await once(again, 'close');
  });
});
