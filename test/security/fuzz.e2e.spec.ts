import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { Agent, IncomingHttpHeaders, request } from 'node:http';
import { join } from 'node:path';
import { ERROR_CATALOG } from '../../src/common/error-catalog';
import { HostResolver } from '../../src/sockets/destination';
import { TestApp, startTestApp } from '../support/test-app';

/**
 * Hostile HTTP: malformed bodies, queries, ids, content types and accept headers for every
 * operation of the committed OpenAPI document. Whatever arrives, the answer is never a 5xx,
 * always a documented problem+json when it is an error, and the process keeps serving. A
 * failure prints its seed; `FUZZ_SEED=<seed> npx jest test/security/fuzz` replays it.
 */

interface Schema {
  $ref?: string;
  type?: string;
  enum?: unknown[];
  example?: unknown;
  properties?: Record<string, Schema>;
  items?: Schema;
  oneOf?: Schema[];
  minimum?: number;
  maximum?: number;
}

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  schema?: Schema;
  example?: unknown;
}

interface Operation {
  method: string;
  path: string;
  parameters: Parameter[];
  bodySchema: Schema | null;
}

interface Sent {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | null;
}

const document = JSON.parse(readFileSync(join(__dirname, '..', '..', 'openapi', 'openapi.json'), 'utf8')) as {
  paths: Record<string, Record<string, { parameters?: Parameter[]; requestBody?: { content: Record<string, { schema?: Schema }> } }>>;
  components: { schemas: Record<string, Schema> };
};

const OPERATIONS: Operation[] = Object.entries(document.paths)
  .filter(([path]) => path.startsWith('/v1/'))
  .flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      parameters: op.parameters ?? [],
      bodySchema: op.requestBody?.content['application/json']?.schema ?? null,
    })),
  );

function resolve(schema: Schema): Schema {
  return schema.$ref ? resolve(document.components.schemas[schema.$ref.split('/').pop() as string]) : schema;
}

const NASTY_STRINGS = fc.constantFrom(
  '',
  ' ',
  '0',
  '-1',
  '1e309',
  'NaN',
  'true',
  'null',
  '127.0.0.1',
  '::1',
  '0x7f.1',
  'localhost',
  '169.254.169.254',
  '../..',
  '%00',
  '\u0000',
  '\ud800',
  '😀',
  '__proto__',
  'constructor',
  // Long, but within Node's header limit: a HEAD answered 431 cannot carry the problem body.
  'a'.repeat(3000),
  '{"a":',
  '<script>',
  'key:value',
);

/** Values shaped by the schema, and some that are not: in range, at the edges, past them, of the wrong type. */
function valueFor(schema: Schema | undefined, depth = 0): fc.Arbitrary<unknown> {
  const s = schema ? resolve(schema) : {};
  const junk = depth > 2 ? fc.constant(null) : fc.oneof(fc.jsonValue({ maxDepth: 2 }), NASTY_STRINGS);
  const typed: fc.Arbitrary<unknown>[] = [];
  if (s.enum) typed.push(fc.constantFrom(...s.enum));
  if (s.example !== undefined) typed.push(fc.constant(s.example));
  switch (s.type) {
    case 'string':
      typed.push(fc.string({ maxLength: 40 }), NASTY_STRINGS);
      break;
    case 'number':
    case 'integer':
      typed.push(
        fc.integer({ min: (s.minimum ?? -1000) - 2, max: (s.maximum ?? 100_000) + 2 }),
        fc.constantFrom(-1, 0, 1, 65535, 65536, Number.MAX_SAFE_INTEGER, 1.5, -0.5, 1e308),
      );
      break;
    case 'boolean':
      typed.push(fc.boolean());
      break;
    case 'array':
      typed.push(fc.array(valueFor(s.items, depth + 1), { maxLength: 4 }));
      break;
    case 'object':
      if (s.properties && depth < 3) {
        const shape = Object.fromEntries(Object.entries(s.properties).map(([key, property]) => [key, valueFor(property, depth + 1)]));
        typed.push(fc.record(shape, { requiredKeys: [] }), fc.tuple(fc.record(shape, { requiredKeys: [] }), fc.dictionary(fc.string({ maxLength: 8 }), junk, { maxKeys: 2 })).map(([a, b]) => ({ ...b, ...a })));
      } else {
        typed.push(fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }));
      }
      break;
  }
  for (const option of s.oneOf ?? []) typed.push(valueFor(option, depth + 1));
  return typed.length > 0 ? fc.oneof({ weight: 4, arbitrary: fc.oneof(...typed) }, { weight: 1, arbitrary: junk }) : junk;
}

function queryValue(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value) ?? '';
}

const CONTENT_TYPES = fc.constantFrom(
  'application/json',
  'application/json',
  'application/octet-stream',
  'application/json; charset=utf-16',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/problem+json',
  'application/xml',
  '*/*',
  '',
);
const ACCEPTS = fc.constantFrom('application/json', 'application/octet-stream', 'text/event-stream', 'text/html', '*/*', 'application/xml;q=0.9', '');

function requestFor(operation: Operation, ids: readonly string[]): fc.Arbitrary<Sent> {
  const idArb = fc.oneof(
    fc.constantFrom(...ids),
    fc.string({ maxLength: 80 }).map(encodeURIComponent),
    fc.constantFrom('..', '%2e%2e', '%00', 'tl_000000000000000000', 'a'.repeat(2000), '%ZZ', 'tc_%2F..%2F', '0'),
  );
  const queryParams = operation.parameters.filter((p) => p.in === 'query');
  const query = fc
    .tuple(
      fc.record(Object.fromEntries(queryParams.map((p) => [p.name, valueFor(p.schema).map(queryValue)])), { requiredKeys: [] }),
      fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 2 }),
      fc.array(fc.constantFrom(...(queryParams.length > 0 ? queryParams.map((p) => p.name) : ['x'])), { maxLength: 2 }),
    )
    .map(([known, extra, repeated]) => {
      const params = new URLSearchParams({ ...extra, ...(known as Record<string, string>) });
      for (const name of repeated) params.append(name, params.get(name) ?? '1');
      return params.toString();
    });
  const body = fc.oneof(
    { weight: 4, arbitrary: valueFor(operation.bodySchema ?? undefined).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }).map((bytes) => Buffer.from(bytes)) },
    { weight: 1, arbitrary: fc.string({ maxLength: 64 }).map((text) => Buffer.from(text)) },
    { weight: 1, arbitrary: fc.constant(null) },
  );
  const method = fc.oneof({ weight: 9, arbitrary: fc.constant(operation.method) }, { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'HEAD', 'OPTIONS') });
  return fc.record({ method, id: idArb, query, body, contentType: CONTENT_TYPES, accept: ACCEPTS, lastEventId: fc.option(fc.string({ maxLength: 20 })) }).map((r) => {
    const headers: Record<string, string> = {};
    const body = r.method === 'GET' || r.method === 'HEAD' ? null : r.body;
    // Framed explicitly: Node sends a DELETE body without Content-Length otherwise, which no server can parse.
    if (body !== null) headers['content-length'] = String(body.length);
    if (r.contentType !== '' && body !== null) headers['content-type'] = r.contentType;
    if (r.accept !== '') headers.accept = r.accept;
    if (r.lastEventId !== null) headers['last-event-id'] = r.lastEventId.replace(/[^\x20-\x7e]/g, '');
    const path = operation.path.replace('{id}', r.id) + (r.query ? `?${r.query}` : '');
    return { method: r.method, path, headers, body };
  });
}

/** Sends one request and reads the status, headers and (for anything but an event stream) the body. */
function send(port: number, agent: Agent, sent: Sent): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolvePromise, reject) => {
    const req = request({ host: '127.0.0.1', port, agent, method: sent.method, path: sent.path, headers: sent.headers }, (res) => {
      if (res.headers['content-type']?.startsWith('text/event-stream')) {
        resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body: '' });
        res.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(sent.body ?? undefined);
  });
}

/** Every name resolves into a denied range: the fuzzer never reaches a real network. */
const resolver: HostResolver = async () => ['192.0.2.1'];

describe('hostile HTTP (seeded fuzz from openapi/openapi.json)', () => {
  let t: TestApp;
  let port: number;
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const ids: string[] = [];

  beforeAll(async () => {
    t = await startTestApp(
      {
        // Nothing the fuzzer sends may leave this host; long-polls answer at once; sockets are capped.
        SOCKPLANE_POLICY_DENY: '0.0.0.0/0,::/0',
        SOCKPLANE_MAX_WAIT_MS: '0',
        SOCKPLANE_MAX_SOCKETS: '40',
        SOCKPLANE_BODY_LIMIT_BYTES: '4096',
      },
      { hostResolver: resolver },
    );
    port = await t.listen();
    const listener = (await t.http.post('/v1/tcp/listeners').send({ port: 0 }).expect(201)).body;
    const udp = (await t.http.post('/v1/udp/sockets').send({}).expect(201)).body;
    ids.push(listener.id, udp.id, 'tc_000001a1b2c3d4e5');
  });

  afterAll(async () => {
    agent.destroy();
    await t.close();
  });

  it('answers every request without a 5xx, with a documented problem for every error', async () => {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
    const arbitrary = fc.oneof(...OPERATIONS.map((operation) => requestFor(operation, ids)));
    const property = fc.asyncProperty(arbitrary, async (sent) => {
      const res = await send(port, agent, sent);
      if (res.status >= 500) throw new Error(`${sent.method} ${sent.path} answered ${res.status}: ${res.body.slice(0, 500)}`);
      if (res.status >= 400 && sent.method !== 'HEAD') {
        const problem = JSON.parse(res.body) as { code: keyof typeof ERROR_CATALOG; status: number };
        expect(res.headers['content-type']).toContain('application/problem+json');
        expect(ERROR_CATALOG[problem.code]?.status).toBe(res.status);
      }
    });
    try {
      await fc.assert(property, { seed, numRuns: Number(process.env.FUZZ_RUNS ?? 3000) });
    } catch (err) {
      console.error(`hostile HTTP fuzz failed; replay with FUZZ_SEED=${seed}`);
      throw err;
    }
    await t.http.get('/health/live').expect(200);
    await t.http.get('/v1/limits').expect(200);
  });

  it('answers requests Node refuses before routing with problem+json too, and closes their connection', async () => {
    const tooLarge = await send(port, agent, { method: 'GET', path: `/v1/limits?x=${'a'.repeat(20_000)}`, headers: {}, body: null });
    expect({ status: tooLarge.status, code: JSON.parse(tooLarge.body).code, connection: tooLarge.headers.connection }).toEqual({
      status: 431,
      code: 'HEADERS_TOO_LARGE',
      connection: 'close',
    });
    const badEscape = await send(port, agent, { method: 'GET', path: '/v1/udp/sockets/%E0%A4%A', headers: {}, body: null });
    expect({ status: badEscape.status, code: JSON.parse(badEscape.body).code }).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    await t.http.get('/health/live').expect(200);
  });
});
