import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TcpPeer } from '../support/peers';
import { TestApp, startTestApp } from '../support/test-app';

interface Exchange {
  send?: string;
  sendBase64?: string;
  /** The documented answer; `reset` and `data-then-close` for the faults; null when none is documented. */
  expect: string | null;
}
interface Example {
  doc: string;
  imposter: Record<string, unknown>;
  exchanges?: Exchange[];
  refused?: string[];
}

const { examples } = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'mountebank-tcp-examples.json'), 'utf8')) as { examples: Example[] };

describe('POST /v1/scenario/mountebank: mountebank’s documented TCP examples', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  /** What the peer got for one request on a connection of its own (mountebank reads each packet as a request). */
  const exchange = async (port: number, listenerId: string, { send, sendBase64, expect: answer }: Exchange): Promise<void> => {
    const peer = await TcpPeer.connect(port);
    const closed = new Promise((resolve) => peer.socket.once('close', resolve));
    await peer.write(sendBase64 === undefined ? Buffer.from(send ?? '') : Buffer.from(sendBase64, 'base64'));
    if (answer === 'reset' || answer === 'data-then-close') {
      await closed;
      if (answer === 'reset') expect(peer.errorCode).toBe('ECONNRESET');
      else expect({ bytes: peer.received.length, ended: peer.ended }).toEqual({ bytes: 32, ended: true });
      return;
    }
    if (answer !== null) {
      expect((await peer.receive(Buffer.byteLength(answer))).toString()).toBe(answer);
    } else {
      // No stub matched: the request arrived (a read shows it) and no rule counted a match.
      const accepted = await t.http.get(`/v1/tcp/listeners/${listenerId}/connections`).query({ after: 0, limit: 100 }).expect(200);
      const connection = accepted.body.items[accepted.body.items.length - 1].id as string;
      await t.http.get(`/v1/tcp/connections/${connection}/buffer`).query({ waitMs: 5000, minBytes: Buffer.byteLength(send ?? '') }).expect(200);
      const rules = await t.http.get(`/v1/tcp/connections/${connection}/rules`).expect(200);
      expect(rules.body.rules.map((r: { matches: number }) => r.matches).every((n: number) => n === 0)).toBe(true);
      expect(peer.received.length).toBe(0);
    }
    peer.socket.destroy();
  };

  it.each(examples.filter((e) => e.exchanges).map((e) => [e.doc, e]))('%s answers as documented', async (_doc, example) => {
    const { exchanges = [] } = example as Example;
    const imported = await t.http
      .post('/v1/scenario/mountebank')
      .send({ ...(example as Example).imposter, port: 0 })
      .expect(201);
    expect(imported.body).toMatchObject({ state: 'listening', labels: { 'imported-from': 'mountebank' } });
    for (const step of exchanges) await exchange(imported.body.local.port, imported.body.id, step);
    await t.http.delete(`/v1/tcp/listeners/${imported.body.id}?closeConnections=true`).expect(200);
  });

  it.each(examples.filter((e) => e.refused).map((e) => [e.doc, e]))('%s is refused, naming what cannot be carried over', async (_doc, example) => {
    const res = await t.http.post('/v1/scenario/mountebank').send((example as Example).imposter).expect(400);
    expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual((example as Example).refused);
    const listeners = await t.http.get('/v1/tcp/listeners').query({ label: 'imported-from:mountebank' }).expect(200);
    expect(listeners.body.items).toEqual([]);
  });

  it('refuses a wait that is negative or over the longest delay, naming the behavior', async () => {
    const withWait = (wait: number): object => ({ protocol: 'tcp', port: 0, stubs: [{ responses: [{ is: { data: 'x' }, behaviors: [{ wait }] }] }] });
    for (const wait of [-5, 600_001]) {
      const res = await t.http.post('/v1/scenario/mountebank').send(withWait(wait)).expect(400);
      expect(res.body.errors).toEqual([{ field: 'stubs[0].responses[0].behaviors[0].wait', message: `stubs[0].responses[0].behaviors[0].wait is ${wait}; give a number of milliseconds from 0 to 600000` }]);
    }
  });

  it('refuses a repeat that is not a whole number of times, or a cycle longer than a rule holds, instead of cutting it', async () => {
    const withRepeats = (...repeats: unknown[]): object => ({ protocol: 'tcp', port: 0, stubs: [{ responses: repeats.map((repeat) => ({ is: { data: 'x' }, repeat })) }] });
    for (const repeat of [0, -1, 1.5, '2']) {
      const res = await t.http.post('/v1/scenario/mountebank').send(withRepeats(repeat)).expect(400);
      expect(res.body.errors).toEqual([{ field: 'stubs[0].responses[0].repeat', message: 'stubs[0].responses[0].repeat must be a whole number of times, 1 or more' }]);
    }
    for (const repeats of [[100], [40, 25]]) {
      const res = await t.http.post('/v1/scenario/mountebank').send(withRepeats(...repeats)).expect(400);
      expect(res.body.errors).toEqual([{ field: 'stubs[0].responses', message: expect.stringMatching(/more than 64 answers/) }]);
    }
    const fits = await t.http.post('/v1/scenario/mountebank').send(withRepeats(60, 4)).expect(201);
    await t.http.delete(`/v1/tcp/listeners/${fits.body.id}`).expect(200);
  });

  it('names the stub, predicate or response a refusal found after conversion came from (once: rules.rules[1].match.all[1].regex)', async () => {
    const stub = (predicates: object[], data = 'ok'): object => ({ predicates, responses: [{ is: { data } }] });
    const lookahead = await t.http
      .post('/v1/scenario/mountebank')
      .send({ protocol: 'tcp', port: 0, stubs: [stub([{ equals: { data: 'a' } }]), stub([{ startsWith: { data: 'GET' } }, { matches: { data: 'x(?=y)' } }])] })
      .expect(400);
    expect(lookahead.body.errors).toEqual([
      { field: 'stubs[1].predicates[1]', message: expect.stringMatching(/^stubs\[1\]\.predicates\[1\], imported as rules\.rules\[1\]\.match\.all\[1\]\.regex: .*not a valid RE2 pattern/) },
    ]);
    const bigReply = await t.http
      .post('/v1/scenario/mountebank')
      .send({ protocol: 'tcp', port: 0, stubs: [stub([]), stub([], 'x'.repeat(70_000))] })
      .expect(400);
    expect(bigReply.body.errors).toEqual([{ field: 'stubs[1].responses[0].is.data', message: expect.stringMatching(/^stubs\[1\]\.responses\[0\]\.is\.data, imported as rules\.rules\[1\]\.then\[0\]\.send: .*over the limit of 65536/) }]);
    const tooMany = await t.http
      .post('/v1/scenario/mountebank')
      .send({ protocol: 'tcp', port: 0, stubs: Array.from({ length: 101 }, () => stub([])) })
      .expect(400);
    expect(tooMany.body.errors).toEqual([{ field: 'stubs', message: expect.stringMatching(/^stubs, imported as rules\.rules: .*over the limit of 100/) }]);
    expect((await t.http.get('/v1/tcp/listeners').query({ label: 'imported-from:mountebank' }).expect(200)).body.items).toEqual([]);
  });

  it('refuses data that is not a string instead of matching every request or answering nothing', async () => {
    const res = await t.http
      .post('/v1/scenario/mountebank')
      .send({ protocol: 'tcp', port: 0, stubs: [{ predicates: [{ contains: { data: 5 } }], responses: [{ is: { data: { text: 'x' } } }] }] })
      .expect(400);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(['stubs[0].predicates[0].contains.data', 'stubs[0].responses[0].is.data']);
  });

  it('sends data holding ${…} as written: mountebank has no templates, so it is neither filled in nor refused', async () => {
    const imported = await t.http
      .post('/v1/scenario/mountebank')
      .send({ protocol: 'tcp', port: 0, stubs: [{ responses: [{ is: { data: 'a ${1} b $${frame}' } }] }] })
      .expect(201);
    const peer = await TcpPeer.connect(imported.body.local.port);
    await peer.write('x');
    expect((await peer.receive(18)).toString()).toBe('a ${1} b $${frame}');
    peer.socket.destroy();
    await t.http.delete(`/v1/tcp/listeners/${imported.body.id}?closeConnections=true`).expect(200);
  });

  it('imports an empty and (holds) and an empty or (does not) as they behave in mountebank', async () => {
    const imported = await t.http
      .post('/v1/scenario/mountebank')
      .send({ protocol: 'tcp', port: 0, stubs: [{ predicates: [{ or: [] }], responses: [{ is: { data: 'or' } }] }, { predicates: [{ and: [] }], responses: [{ is: { data: 'and' } }] }] })
      .expect(201);
    const peer = await TcpPeer.connect(imported.body.local.port);
    await peer.write('x');
    expect((await peer.receive(3)).toString()).toBe('and');
    peer.socket.destroy();
    await t.http.delete(`/v1/tcp/listeners/${imported.body.id}?closeConnections=true`).expect(200);
  });

  it('carries over circular responses, repeat, wait and defaultResponse', async () => {
    const imposter = {
      protocol: 'tcp',
      port: 0,
      name: 'turns',
      stubs: [
        {
          predicates: [{ equals: { data: 'next' } }],
          responses: [{ is: { data: 'one' }, repeat: 2 }, { is: { data: 'two' }, behaviors: [{ wait: 50 }] }],
        },
      ],
      defaultResponse: { data: 'unknown' },
    };
    const imported = await t.http.post('/v1/scenario/mountebank').send(imposter).expect(201);
    expect(imported.body.name).toBe('turns');
    const answers: string[] = [];
    for (const request of ['next', 'NEXT', 'next', 'next', 'what']) {
      const peer = await TcpPeer.connect(imported.body.local.port);
      await peer.write(request);
      const started = Date.now();
      const expected = answers.length === 2 ? 3 : answers.length === 4 ? 7 : 3;
      answers.push((await peer.receive(expected)).toString());
      if (answers.length === 3) expect(Date.now() - started).toBeGreaterThanOrEqual(45);
      peer.socket.destroy();
    }
    expect(answers).toEqual(['one', 'one', 'two', 'one', 'unknown']);
    await t.http.delete(`/v1/tcp/listeners/${imported.body.id}?closeConnections=true`).expect(200);
  });
});
