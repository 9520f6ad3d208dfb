import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DNS_RULES, ECHO_RULES, KEY_VALUE_RULES, SMTP_RULES } from '../../src/rules/rule-examples';
import { PythonPeer, TcpPeer, UdpPeer } from '../support/peers';
import { TestApp, startTestApp } from '../support/test-app';
import { TempDir } from '../support/tls';
import { SseClient } from '../support/sse-client';
import { InstanceCa } from '../../src/sockets/tls/instance-ca';

describe('reply rules', () => {
  let t: TestApp;
  let dir: TempDir;
  let caFile: string;
  beforeAll(async () => {
    t = await startTestApp({ SOCKPLANE_RULES_MAX_RULES: '20', SOCKPLANE_RULES_MAX_REPLY_BYTES: '1024' });
    dir = await TempDir.create();
    caFile = await dir.write('ca.pem', (await t.http.get('/v1/tls/ca?format=pem').expect(200)).text);
  });
  afterAll(async () => {
    await t.close();
    await dir.remove();
  });

  const frames = async (id: string, count: number): Promise<string[]> => {
    const res = await t.http.get(`/v1/tcp/connections/${id}/frames`).query({ waitMs: 5000, minFrames: count, max: 100 }).expect(200);
    return res.body.frames.map((f: { data: string }) => f.data);
  };
  const onlyConnection = async (listenerId: string): Promise<string> => {
    const accepted = await t.http.get(`/v1/tcp/listeners/${listenerId}/connections`).query({ waitMs: 5000 }).expect(200);
    return accepted.body.items[0].id as string;
  };

  it.each([
    ['without STARTTLS', [] as string[]],
    ['with starttls() in the middle', ['ca']],
  ])('Python smtplib sends a mail, EHLO to QUIT, to an SMTP server made only of rules, %s; the frame log holds what it sent', async (_name, extra) => {
    const listener = await t.http
      .post('/v1/tcp/listeners')
      .send({ port: 0, framing: { type: 'lines' }, tls: { mode: 'starttls' }, rules: SMTP_RULES })
      .expect(201);
    const client = new PythonPeer('smtp_send_mail.py', [listener.body.local.port, ...extra.map(() => caFile)]);
    expect({ code: await client.exited, stderr: client.stderr }).toEqual({ code: 0, stderr: '' });
    expect(client.stdout).toContain('refused: {}\nquit: 221\n');
    if (extra.length > 0) expect(client.stdout).toContain('TLS: TLSv1.3');

    const id = await onlyConnection(listener.body.id);
    const sent = await frames(id, 10);
    expect(sent).toEqual(
      expect.arrayContaining(['ehlo client.example.test', 'mail FROM:<alice@example.test>', 'rcpt TO:<bob@example.test>', 'data', 'Subject: hello', 'Hi Bob,', '..dot-stuffed line', '.', 'quit']),
    );
    if (extra.length > 0) expect(sent).toContain('STARTTLS');
    const connection = await t.http.get(`/v1/tcp/connections/${id}`).expect(200);
    expect(connection.body.tls.state).toBe(extra.length > 0 ? 'established' : 'none');
    const rules = await t.http.get(`/v1/tcp/connections/${id}/rules`).expect(200);
    const matches = Object.fromEntries(rules.body.rules.map((r: { id: string; matches: number }) => [r.id, r.matches]));
    expect(matches).toMatchObject({ greeting: 1, mail: 1, rcpt: 1, data: 1, 'end-of-data': 1, quit: 1, starttls: extra.length, ehlo: 1 + extra.length });
    expect(rules.body.state).toBe('command');
    const listenerRules = await t.http.get(`/v1/tcp/listeners/${listener.body.id}/rules`).expect(200);
    expect(listenerRules.body.rules.find((r: { id: string }) => r.id === 'mail')).toMatchObject({ matches: 1, lastMatchAt: expect.any(String) });
    await t.http.delete(`/v1/tcp/listeners/${listener.body.id}?closeConnections=true`).expect(200);
  });

  it('the tutorial’s client.py gets its echo from a ${frame} rule, not mode: echo, on 127.0.0.1 and ::1', async () => {
    for (const host of ['127.0.0.1', '::1']) {
      const listener = await t.http.post('/v1/tcp/listeners').send({ host, port: 0, rules: ECHO_RULES }).expect(201);
      expect(listener.body.options.mode).toBe('buffer');
      const client = new PythonPeer('tutorial/client.py', [listener.body.local.port, host]);
      expect(await client.exited).toBe(0);
      expect(client.stdout).toBe('Received: Hello, server!\n');
      const id = await onlyConnection(listener.body.id);
      const read = await t.http.get(`/v1/tcp/connections/${id}/buffer`).expect(200);
      expect(read.body.data).toBe('Hello, server!');
      await t.http.delete(`/v1/tcp/listeners/${listener.body.id}?closeConnections=true`).expect(200);
    }
  });

  it('the tutorial’s udp_client.py gets its echo from a UDP rule; a DNS-style query from Python is answered by a bytes match on its header', async () => {
    const udp = await t.http.post('/v1/udp/sockets').send({ type: 'udp4', port: 0, rules: ECHO_RULES }).expect(201);
    const client = new PythonPeer('tutorial/udp_client.py', [udp.body.local.port]);
    expect(await client.exited).toBe(0);
    expect(client.stdout).toMatch(/^Received: b'ping' from \('127\.0\.0\.1', \d+\)\n$/);

    await t.http.put(`/v1/udp/sockets/${udp.body.id}/rules`).send(DNS_RULES).expect(200);
    const dns = new PythonPeer('dns_query.py', [udp.body.local.port, 'fake.example.test']);
    expect(await dns.exited).toBe(0);
    expect(dns.stdout).toBe('id matches: True\nflags: 8180 counts: 1 1 0 0\nquestion echoed: True\naddress: 127.0.0.1\n');
    const rules = await t.http.get(`/v1/udp/sockets/${udp.body.id}/rules`).expect(200);
    expect(rules.body.rules[0]).toMatchObject({ id: 'dns-a', matches: 1 });
    const held = await t.http.get(`/v1/udp/sockets/${udp.body.id}/datagrams`).expect(200);
    expect(held.body.datagrams).toHaveLength(2);
    await t.http.delete(`/v1/udp/sockets/${udp.body.id}`).expect(200);
  });

  it('times runs out, responses cycle, a state machine follows its states, unmatched frames take the default; rule.matched counts show it', async () => {
    const rules = {
      initialState: 'locked',
      default: 'discard',
      rules: [
        { id: 'once', match: { equals: 'hello' }, times: 1, then: [{ send: 'welcome', frame: true }] },
        { id: 'unlock', match: { equals: 'open sesame', state: 'locked' }, then: [{ send: 'unlocked', frame: true }, { setState: 'open' }] },
        { id: 'cycle', match: { startsWith: 'n', state: 'open' }, responses: [{ then: [{ send: 'one', frame: true }] }, { then: [{ send: 'two', frame: true }] }] },
        { id: 'lock', match: { equals: 'lock' }, then: [{ send: 'locked', frame: true }, { setState: 'locked' }] },
      ],
    };
    const listener = await t.http.post('/v1/tcp/listeners').send({ port: 0, framing: { type: 'lines' }, rules }).expect(201);
    const peer = await TcpPeer.connect(listener.body.local.port);
    // Framed sends end each frame with the preset's first delimiter, CRLF.
    const expected = 'welcome\r\nunlocked\r\none\r\ntwo\r\none\r\nlocked\r\n';
    await peer.write('hello\nhello\nn1\nopen sesame\nn1\nn2\nn3\nlock\nn4\n');
    expect((await peer.receive(expected.length)).toString()).toBe(expected);
    const id = await onlyConnection(listener.body.id);
    const status = await t.http.get(`/v1/tcp/connections/${id}/rules`).expect(200);
    expect(status.body).toMatchObject({ state: 'locked', default: 'discard', initialState: 'locked' });
    expect(status.body.rules.map((r: { id: string; matches: number; remaining: number | null }) => [r.id, r.matches, r.remaining])).toEqual([
      ['once', 1, 0],
      ['unlock', 1, null],
      ['cycle', 3, null],
      ['lock', 1, null],
    ]);
    // Unmatched frames were discarded (released), so the log starts after the last one that was.
    const framing = await t.http.get(`/v1/tcp/connections/${id}`).expect(200);
    expect(framing.body.framing).toMatchObject({ framesIn: 9, endIndex: 9 });
    expect(framing.body.framing.oldestIndex).toBe(9);
    peer.socket.destroy();
    await t.http.delete(`/v1/tcp/listeners/${listener.body.id}?closeConnections=true`).expect(200);
  });

  it('PUT …/rules swaps the set for the next frame; a key-value line server of rules answers a Node client', async () => {
    const listener = await t.http.post('/v1/tcp/listeners').send({ port: 0, framing: { type: 'lines' } }).expect(201);
    const peer = await TcpPeer.connect(listener.body.local.port);
    const id = await onlyConnection(listener.body.id);
    await peer.write('PING\n');
    expect(await frames(id, 1)).toEqual(['PING']);
    await t.http.put(`/v1/tcp/connections/${id}/rules`).send(KEY_VALUE_RULES).expect(200);
    await peer.write('PING\nGET colour\nSET a b\nWHAT\nQUIT\n');
    await peer.whenClosed();
    expect(peer.received.toString()).toBe('PONG\r\nVALUE colour 42\r\nOK\r\nERR unknown command\r\nBYE\r\n');
    await t.http.delete(`/v1/tcp/listeners/${listener.body.id}?closeConnections=true`).expect(200);
  });

  it('a pathological regex ((a+)+$ on 100 KB of a) matches in bounded time', async () => {
    const listener = await t.http
      .post('/v1/tcp/listeners')
      .send({ port: 0, rules: { rules: [{ match: { regex: '(a+)+$' }, then: [{ send: 'matched' }] }] } })
      .expect(201);
    const peer = await TcpPeer.connect(listener.body.local.port);
    const started = Date.now();
    await peer.write(Buffer.alloc(100_000, 'a'));
    await peer.receive(7);
    expect(Date.now() - started).toBeLessThan(3000);
    peer.socket.destroy();
    await t.http.delete(`/v1/tcp/listeners/${listener.body.id}?closeConnections=true`).expect(200);
  });

  describe('refuses with 400 and the field at fault', () => {
    const nestedNot = (depth: number): object => Array.from({ length: depth }).reduce<object>((inner) => ({ not: inner }), { equals: 'x' });
    const tooMany = { rules: Array.from({ length: 21 }, () => ({ then: [{ keep: true }] })) };
    it.each([
      ['too many rules', tooMany, 'rules.rules', /21 items, over the limit of 20/],
      ['a reply over the reply limit', { rules: [{ then: [{ send: 'x'.repeat(1025) }] }] }, 'rules.rules[0].then[0].send', /over the limit of 1024/],
      ['a regex RE2 does not take', { rules: [{ match: { regex: '(a)\\1' } }] }, 'rules.rules[0].then', /then/],
      ['a backreference', { rules: [{ match: { regex: '(a)\\1' }, then: [] }] }, 'rules.rules[0].match.regex', /not a valid RE2 pattern/],
      ['an unknown match key deep down', { rules: [{ match: { any: [{ not: { equal: 'x' } }] }, then: [] }] }, 'rules.rules[0].match.any[0].not.equal', /should not exist/],
      ['two verbs in one action', { rules: [{ then: [{ send: 'a', close: 'fin' }] }] }, 'rules.rules[0].then[0]', /exactly one/],
      ['a bad byte pattern', { rules: [{ match: { bytes: 'de ad ?' }, then: [] }] }, 'rules.rules[0].match.bytes', /not hex bytes/],
      ['a duplicate id', { rules: [{ id: 'a', then: [] }, { id: 'a', then: [] }] }, 'rules.rules[1].id', /unique/],
      ['a wrong type deep in a list (once named rules.rules.then.delayMs, no positions)', { rules: [{ then: [] }, { then: [{ keep: true }, { delayMs: 'soon' }] }] }, 'rules.rules[1].then[1].delayMs', /must be/],
      ['conditions nested 2000 deep (once a stack overflow, 500)', { rules: [{ match: nestedNot(2000), then: [] }] }, `rules.rules[0].match${'.not'.repeat(17)}`, /more than 16 levels deep/],
    ])('%s', async (_name, rules, field, message) => {
      const res = await t.http.post('/v1/tcp/listeners').send({ port: 0, rules }).expect(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field, message: expect.stringMatching(message) }] });
    });
  });

  describe('PUT …/rules refuses a set that can never work as written, and keeps the old one', () => {
    it.each([
      ['a group the regex does not have', { rules: [{ match: { regex: '^GET (\\w+)' }, then: [{ send: 'x' }, { send: 'VALUE ${2}' }] }] }, 'rules[0].then[1].send', /\$\{2\} names a regex group the match does not have \(it has 1\)/],
      ['a named group of one any branch only', { rules: [{ match: { any: [{ regex: '(?P<k>a)' }, { equals: 'b' }] }, responses: [{ then: [{ send: '${k}' }] }] }] }, 'rules[0].responses[0].then[0].send', /\$\{k\} names a group no regex/],
      ['a capture with no regex', { rules: [{ match: { equals: 'x' }, then: [{ sendSlowly: '${1}' }] }] }, 'rules[0].then[0].sendSlowly', /no regex with groups/],
      ['${frame} on connect', { rules: [{ on: 'connect', then: [{ send: 'hi ${frame}' }] }] }, 'rules[0].then[0].send', /no frame to fill it on: connect/],
      ['a data condition on peer-end', { rules: [{ on: 'peer-end', match: { state: 's', contains: 'bye' }, then: [{ close: 'fin' }] }] }, 'rules[0].match.contains', /on: peer-end sees no data/],
      ['an empty id', { rules: [{ id: '', then: [{ keep: true }] }] }, 'rules[0].id', /must not be empty/],
      ['an empty setState', { rules: [{ then: [{ send: 'ok' }, { setState: '' }] }] }, 'rules[0].then[1].setState', /must not be empty/],
      ['an empty any', { rules: [{ match: { any: [] }, then: [{ keep: true }] }] }, 'rules[0].match.any', /is empty/],
      ['an empty all', { rules: [{ match: { not: { all: [] } }, then: [{ keep: true }] }] }, 'rules[0].match.not.all', /is empty/],
      ['ignoreCase on hex', { rules: [{ match: { startsWith: 'ff', encoding: 'hex', ignoreCase: true }, then: [{ keep: true }] }] }, 'rules[0].match.ignoreCase', /applies only to utf8/],
      ['ignoreCase on bytes', { rules: [{ match: { bytes: 'ff ??', ignoreCase: true }, then: [{ keep: true }] }] }, 'rules[0].match.ignoreCase', /applies only to utf8/],
      ['a data condition on idle, under any', { rules: [{ on: 'idle', idleMs: 100, match: { any: [{ regex: 'x' }] }, then: [{ send: '?' }] }] }, 'rules[0].match.any[0].regex', /on: idle sees no data/],
    ])('%s', async (_name, rules, field, message) => {
      const listener = await t.http.post('/v1/tcp/listeners').send({ port: 0, rules: { rules: [{ id: 'old', then: [{ keep: true }] }] } }).expect(201);
      const res = await t.http.put(`/v1/tcp/listeners/${listener.body.id}/rules`).send(rules).expect(400);
      expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field, message: expect.stringMatching(message) }] });
      const kept = await t.http.get(`/v1/tcp/listeners/${listener.body.id}/rules`).expect(200);
      expect(kept.body.rules.map((rule: { id: string }) => rule.id)).toEqual(['old']);
      await t.http.delete(`/v1/tcp/listeners/${listener.body.id}`).expect(200);
    });
  });

  it('takes every rule set of docs/rules.md as written', async () => {
    const page = readFileSync(join(__dirname, '..', '..', 'docs', 'rules.md'), 'utf8');
    const sets = [...page.matchAll(/```json\n([\s\S]*?)```/g)].map((block) => JSON.parse(block[1]) as object);
    expect(sets.length).toBeGreaterThanOrEqual(2);
    const listener = await t.http.post('/v1/tcp/listeners').send({ port: 0, framing: { type: 'lines' } }).expect(201);
    for (const set of sets) await t.http.put(`/v1/tcp/listeners/${listener.body.id}/rules`).send(set).expect(200);
    await t.http.delete(`/v1/tcp/listeners/${listener.body.id}`).expect(200);
  });

  it('takes every rules example of the OpenAPI document as sent', async () => {
    const document = JSON.parse(readFileSync(join(__dirname, '..', '..', 'openapi', 'openapi.json'), 'utf8'));
    const examplesOf = (path: string): { value: object }[] => Object.values(document.paths[path].put.requestBody.content['application/json'].examples);
    const listener = await t.http.post('/v1/tcp/listeners').send({ port: 0 }).expect(201);
    const udp = await t.http.post('/v1/udp/sockets').send({ type: 'udp4', port: 0 }).expect(201);
    const tcpExamples = examplesOf('/v1/tcp/listeners/{id}/rules');
    expect(tcpExamples.length).toBeGreaterThanOrEqual(4);
    for (const { value } of tcpExamples) await t.http.put(`/v1/tcp/listeners/${listener.body.id}/rules`).send(value).expect(200);
    for (const { value } of examplesOf('/v1/udp/sockets/{id}/rules')) await t.http.put(`/v1/udp/sockets/${udp.body.id}/rules`).send(value).expect(200);
    await t.http.delete(`/v1/tcp/listeners/${listener.body.id}`).expect(200);
    await t.http.delete(`/v1/udp/sockets/${udp.body.id}`).expect(200);
  });

  it('a client connection’s rules greet on connect and start TLS as the client against a Python STARTTLS server', async () => {
    const issued = await t.app.get(InstanceCa).issue({ commonName: '127.0.0.1', subjectAltNames: [{ type: 'ip', value: '127.0.0.1' }], validityDays: 1, keyType: 'ec-p256' });
    const server = new PythonPeer('starttls_server.py', [0, await dir.write('ip.crt', issued.certificatePem), await dir.write('ip.key', issued.privateKeyPem)]);
    const port = Number((await server.waitForOutput(/Listening on 127\.0\.0\.1:(\d+)/))[1]);
    const rules = {
      rules: [
        { on: 'connect', then: [{ send: 'STARTTLS\r\n' }] },
        { match: { equals: '220 ready' }, then: [{ startTls: 'client' }, { send: 'over TLS', frame: true }] },
      ],
    };
    const conn = await t.http.post('/v1/tcp/connections').send({ host: '127.0.0.1', port, framing: { type: 'lines' }, rules }).expect(201);
    expect(await frames(conn.body.id, 2)).toEqual(['220 ready', 'over TLS']);
    expect(await server.exited).toBe(0);
    expect(server.stdout).toMatch(/Command: STARTTLS\nTLS: TLSv1\.3\n/);
    const state = await t.http.get(`/v1/tcp/connections/${conn.body.id}`).expect(200);
    expect(state.body.tls).toMatchObject({ state: 'established', authorized: true });
    await t.http.delete(`/v1/tcp/connections/${conn.body.id}`).expect(200);
  });

  it('greets on connect, sends slowly, speaks up when the peer is idle, answers its FIN and resets on request; rule.matched events name each rule', async () => {
    const port = await t.listen();
    const stream = await SseClient.open(port, '/v1/events?type=rule.matched');
    try {
      const rules = {
        rules: [
          { id: 'hello', on: 'connect', then: [{ send: 'hi\n' }] },
          { id: 'slow', match: { equals: 'slow\n' }, then: [{ sendSlowly: 'abcdef\n', chunkBytes: 2, intervalMs: 5 }] },
          { id: 'reset', match: { equals: 'reset\n' }, then: [{ close: 'rst' }] },
          { id: 'idle', on: 'idle', idleMs: 150, then: [{ send: 'still there?\n' }] },
          { id: 'bye', on: 'peer-end', then: [{ send: 'bye\n' }, { close: 'fin' }] },
        ],
      };
      const listener = await t.http.post('/v1/tcp/listeners').send({ port: 0, rules }).expect(201);
      const peer = await TcpPeer.connect(listener.body.local.port, '127.0.0.1', { allowHalfOpen: true });
      expect((await peer.receive(3)).toString()).toBe('hi\n');
      await peer.write('slow\n');
      expect((await peer.receive(10)).toString()).toBe('hi\nabcdef\n');
      expect((await peer.receive(23)).toString()).toBe('hi\nabcdef\nstill there?\n');
      peer.socket.end();
      await peer.whenClosed();
      expect(peer.received.toString()).toBe('hi\nabcdef\nstill there?\nbye\n');

      const other = await TcpPeer.connect(listener.body.local.port);
      await other.receive(3);
      // events.once would reject on the reset's error event: wait for close alone.
      const closed = new Promise((resolve) => other.socket.once('close', resolve));
      await other.write('reset\n');
      await closed;
      expect(other.errorCode).toBe('ECONNRESET');

      const events = await stream.waitForCount(6);
      expect(events.map((e) => e.json.data as { ruleId: string; trigger: string }).map((data) => [data.ruleId, data.trigger])).toEqual([
        ['hello', 'connect'],
        ['slow', 'frame'],
        ['idle', 'idle'],
        ['bye', 'peer-end'],
        ['hello', 'connect'],
        ['reset', 'frame'],
      ]);
      await t.http.delete(`/v1/tcp/listeners/${listener.body.id}?closeConnections=true`).expect(200);
    } finally {
      stream.close();
    }
  });

  it('frame rules on a framed connection in echo or discard mode (which hold no frame bytes) are refused with 400, at create, PUT …/rules and PUT …/framing; connect rules are not', async () => {
    const frameRule = { rules: [{ match: { equals: 'PING' }, then: [{ send: 'PONG' }] }] };
    for (const mode of ['echo', 'discard']) {
      const refused = await t.http.post('/v1/tcp/listeners').send({ port: 0, mode, framing: { type: 'lines' }, rules: frameRule }).expect(400);
      expect(refused.body.errors).toEqual([{ field: 'rules', message: expect.stringContaining(`holds only in mode buffer, and this one is ${mode}`) }]);
    }
    const greeter = await t.http
      .post('/v1/tcp/listeners')
      .send({ port: 0, mode: 'discard', framing: { type: 'lines' }, rules: { rules: [{ on: 'connect', then: [{ send: 'hello\n' }] }] } })
      .expect(201);
    const put = await t.http.put(`/v1/tcp/listeners/${greeter.body.id}/rules`).send(frameRule).expect(400);
    expect(put.body.errors[0].field).toBe('rules');
    await t.http.delete(`/v1/tcp/listeners/${greeter.body.id}`).expect(200);

    const plain = await t.http.post('/v1/tcp/listeners').send({ port: 0, mode: 'discard', rules: frameRule }).expect(201);
    const peer = await TcpPeer.connect(plain.body.local.port);
    const id = await onlyConnection(plain.body.id);
    const framing = await t.http.put(`/v1/tcp/connections/${id}/framing`).send({ type: 'lines' }).expect(400);
    expect(framing.body.errors[0].field).toBe('framing');
    await peer.write('PING');
    expect((await peer.receive(4)).toString()).toBe('PONG');
    peer.socket.destroy();
    await t.http.delete(`/v1/tcp/listeners/${plain.body.id}`).expect(200);
  });

  it('without framing, rules judge each received chunk; discard releases it from the byte log, keep leaves it', async () => {
    const rules = { rules: [{ match: { startsWith: 'noise' }, then: [{ discard: true }] }, { match: { startsWith: 'ask' }, then: [{ send: 'answer' }] }] };
    const listener = await t.http.post('/v1/tcp/listeners').send({ port: 0, rules }).expect(201);
    const peer = await TcpPeer.connect(listener.body.local.port);
    const id = await onlyConnection(listener.body.id);
    await peer.write('noise!');
    await eventuallyHeld(id, 6, 6);
    await peer.write('ask');
    expect((await peer.receive(6)).toString()).toBe('answer');
    const read = await t.http.get(`/v1/tcp/connections/${id}/buffer`).expect(200);
    expect(read.body).toMatchObject({ data: 'ask', from: 6, oldestOffset: 6 });
    peer.socket.destroy();
    await t.http.delete(`/v1/tcp/listeners/${listener.body.id}?closeConnections=true`).expect(200);
  });

  it('a UDP rule sends to the destination it names instead of the sender, and discard keeps the datagram out of the log', async () => {
    const watcher = await UdpPeer.bind();
    const sender = await UdpPeer.bind();
    const rules = { rules: [{ match: { equals: 'tell' }, then: [{ send: 'told by ${frame}', to: { host: '127.0.0.1', port: watcher.port } }, { discard: true }] }] };
    const udp = await t.http.post('/v1/udp/sockets').send({ type: 'udp4', port: 0, rules }).expect(201);
    await sender.send('tell', udp.body.local.port);
    const [told] = await watcher.receive(1);
    expect(told.data.toString()).toBe('told by tell');
    expect(told.port).toBe(udp.body.local.port);
    const held = await t.http.get(`/v1/udp/sockets/${udp.body.id}/datagrams`).expect(200);
    expect(held.body).toMatchObject({ datagrams: [], endSeq: 1 });
    expect(sender.received).toHaveLength(0);
    await t.http.delete(`/v1/udp/sockets/${udp.body.id}`).expect(200);
    await watcher.close();
    await sender.close();
  });

  /** Waits until the connection has received `endOffset` bytes and released up to `oldestOffset`. */
  const eventuallyHeld = async (id: string, endOffset: number, oldestOffset: number): Promise<void> => {
    const res = await t.http.get(`/v1/tcp/connections/${id}/buffer`).query({ from: oldestOffset, waitMs: 0 });
    if (res.status === 200 && res.body.endOffset === endOffset && res.body.oldestOffset === oldestOffset) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
    return eventuallyHeld(id, endOffset, oldestOffset);
  };
});
