import { OpenAPIObject, OperationObject, ParameterObject, RequestBodyObject } from '@nestjs/swagger';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CATALOG } from '../src/common/error-catalog';
import { TestApp, startTestApp } from './support/test-app';

/** Every operation of the API, its path with an id no socket has. */
function operations(): { method: 'get' | 'post' | 'put' | 'patch' | 'delete'; path: string; operation: OperationObject }[] {
  const document = JSON.parse(readFileSync(join(__dirname, '..', 'openapi', 'openapi.json'), 'utf8')) as OpenAPIObject;
  return Object.entries(document.paths).flatMap(([path, item]) =>
    (['get', 'post', 'put', 'patch', 'delete'] as const).flatMap((method) => {
      const operation = item[method];
      return operation ? [{ method, path: path.replace('{id}', 'xx_unknown'), operation }] : [];
    }),
  );
}

/** Every path of the API (an id no socket has in it) and the methods it takes, as `Allow` lists them. */
function operationsByPath(): [string, string][] {
  const byPath = new Map<string, Set<string>>();
  for (const { method, path } of operations()) byPath.set(path, (byPath.get(path) ?? new Set()).add(method.toUpperCase()));
  return [...byPath].map(([path, methods]) => [path, ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((m) => methods.has(m) || (m === 'HEAD' && methods.has('GET'))).join(', ')]);
}

type Case = [name: string, method: 'get' | 'post' | 'delete', path: string, body: string | object | Buffer | undefined, contentType: string | undefined, status: number, code: string];

describe('problem+json for bad input', () => {
  let t: TestApp;
  let connectionId: string;
  beforeAll(async () => {
    t = await startTestApp({ SOCKPLANE_BODY_LIMIT_BYTES: '2048' });
    const listener = await t.http.post('/v1/tcp/listeners').send({ port: 0 }).expect(201);
    const conn = await t.http.post('/v1/tcp/connections').send({ host: '127.0.0.1', port: listener.body.local.port }).expect(201);
    connectionId = conn.body.id;
  });
  afterAll(() => t.close());

  const cases = (): Case[] => [
    ['unknown listener id', 'get', '/v1/tcp/listeners/tl_missing', undefined, undefined, 404, 'SOCKET_NOT_FOUND'],
    ['unknown connection id', 'get', '/v1/tcp/connections/tc_missing/buffer', undefined, undefined, 404, 'SOCKET_NOT_FOUND'],
    ['a listener id used as a connection id', 'get', '/v1/tcp/connections/tl_000001abcdef0123', undefined, undefined, 404, 'SOCKET_NOT_FOUND'],
    ['unknown route', 'get', '/v1/tcp/sockets', undefined, undefined, 404, 'ROUTE_NOT_FOUND'],
    ['malformed JSON', 'post', '/v1/tcp/listeners', '{"port": ', 'application/json', 400, 'MALFORMED_REQUEST'],
    ['empty JSON body', 'post', '/v1/tcp/connections', '', 'application/json', 400, 'MALFORMED_REQUEST'],
    ['a JSON array body', 'post', '/v1/tcp/listeners', [1, 2], undefined, 400, 'VALIDATION_FAILED'],
    ['a JSON string body', 'post', '/v1/tcp/listeners', '"port"', 'application/json', 400, 'VALIDATION_FAILED'],
    ['wrong type', 'post', '/v1/tcp/listeners', { port: '80' }, undefined, 400, 'VALIDATION_FAILED'],
    ['out-of-range port', 'post', '/v1/tcp/listeners', { port: 65536 }, undefined, 400, 'VALIDATION_FAILED'],
    ['negative port', 'post', '/v1/tcp/connections', { host: '127.0.0.1', port: -1 }, undefined, 400, 'VALIDATION_FAILED'],
    ['unknown field', 'post', '/v1/tcp/listeners', { port: 0, colour: 'blue' }, undefined, 400, 'VALIDATION_FAILED'],
    ['bad mode', 'post', '/v1/tcp/listeners', { mode: 'mirror' }, undefined, 400, 'VALIDATION_FAILED'],
    ['a host name as bind address', 'post', '/v1/tcp/listeners', { host: 'example.com' }, undefined, 400, 'VALIDATION_FAILED'],
    ['labels that are not strings', 'post', '/v1/tcp/listeners', { labels: { a: 1 } }, undefined, 400, 'VALIDATION_FAILED'],
    ['missing host', 'post', '/v1/tcp/connections', { port: 80 }, undefined, 400, 'VALIDATION_FAILED'],
    ['bad encoding', 'post', '/v1/tcp/connections/:conn/send', { data: 'x', encoding: 'rot13' }, undefined, 400, 'VALIDATION_FAILED'],
    ['missing data', 'post', '/v1/tcp/connections/:conn/send', { encoding: 'utf8' }, undefined, 400, 'VALIDATION_FAILED'],
    ['odd-length hex', 'post', '/v1/tcp/connections/:conn/send', { data: 'abc', encoding: 'hex' }, undefined, 400, 'INVALID_PAYLOAD'],
    ['invalid base64', 'post', '/v1/tcp/connections/:conn/send', { data: 'a', encoding: 'base64' }, undefined, 400, 'INVALID_PAYLOAD'],
    ['text/plain body', 'post', '/v1/tcp/connections/:conn/send', 'hello', 'text/plain', 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['form body', 'post', '/v1/tcp/listeners', 'port=0', 'application/x-www-form-urlencoded', 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['raw bytes where JSON is expected', 'post', '/v1/tcp/listeners', Buffer.from('x'), 'application/octet-stream', 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['body over the limit', 'post', '/v1/tcp/connections/:conn/send', Buffer.alloc(4096), 'application/octet-stream', 413, 'BODY_TOO_LARGE'],
    ['non-numeric query', 'get', '/v1/tcp/connections/:conn/buffer?maxBytes=lots', undefined, undefined, 400, 'VALIDATION_FAILED'],
    ['fractional query', 'get', '/v1/tcp/connections/:conn/buffer?waitMs=1.5', undefined, undefined, 400, 'VALIDATION_FAILED'],
    ['negative offset', 'get', '/v1/tcp/connections/:conn/buffer?from=-1', undefined, undefined, 400, 'VALIDATION_FAILED'],
    ['bad until encoding', 'get', '/v1/tcp/connections/:conn/buffer?until=zz&untilEncoding=hex', undefined, undefined, 400, 'INVALID_PAYLOAD'],
    ['offset past the end', 'get', '/v1/tcp/connections/:conn/buffer?from=99', undefined, undefined, 416, 'OFFSET_OUT_OF_RANGE'],
    ['release without upTo', 'delete', '/v1/tcp/connections/:conn/buffer', undefined, undefined, 400, 'VALIDATION_FAILED'],
    ['unknown query parameter', 'get', '/v1/tcp/connections?colour=blue', undefined, undefined, 400, 'VALIDATION_FAILED'],
    ['bad boolean', 'delete', '/v1/tcp/listeners/tl_x?closeConnections=yes', undefined, undefined, 400, 'VALIDATION_FAILED'],
    ['bad close mode', 'delete', '/v1/tcp/connections/:conn?mode=abort', undefined, undefined, 400, 'VALIDATION_FAILED'],
    ['bad label selector', 'get', '/v1/tcp/listeners?label=nocolon', undefined, undefined, 400, 'VALIDATION_FAILED'],
    ['bad cursor', 'get', '/v1/tcp/connections?cursor=czk5OTk5OTk5OTk5OTk5OTk5OTk', undefined, undefined, 400, 'INVALID_CURSOR'],
    ['limit too large', 'get', '/v1/tcp/connections?limit=100000', undefined, undefined, 400, 'VALIDATION_FAILED'],
    // Query numbers are whole numbers written in digits, nothing JavaScript's Number() would also take.
    ['hexadecimal query number', 'get', '/v1/tcp/connections/:conn/buffer?maxBytes=0x10', undefined, undefined, 400, 'VALIDATION_FAILED'],
    ['exponent query number', 'get', '/v1/tcp/connections/:conn/buffer?maxBytes=1e3', undefined, undefined, 400, 'VALIDATION_FAILED'],
    ['padded query number', 'get', '/v1/tcp/connections/:conn/buffer?maxBytes=%205', undefined, undefined, 400, 'VALIDATION_FAILED'],
    ['negative waitMs', 'get', '/v1/tcp/connections/:conn/buffer?waitMs=-1', undefined, undefined, 400, 'VALIDATION_FAILED'],
  ];

  it.each(cases())('%s → %i %s', async (_name, method, path, body, contentType, status, code) => {
    let req = t.http[method](path.replace(':conn', connectionId));
    if (contentType) req = req.set('content-type', contentType);
    if (body !== undefined) req = req.send(body as object);
    const res = await req;
    expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({
      type: expect.stringMatching(/^urn:sockplane:problem:[a-z-]+$/),
      title: ERROR_CATALOG[code as keyof typeof ERROR_CATALOG].title,
      status,
      detail: expect.any(String),
      instance: path.replace(':conn', connectionId).split('?')[0],
    });
  });

  // Validation is named on each operation (`@Validated`), not installed globally: an operation
  // whose query or JSON body lacked it would take the unknown field and go on (404, or worse).
  const withQuery = operations().filter(({ operation }) => (operation.parameters as ParameterObject[] | undefined)?.some((p) => p.in === 'query'));
  const withJsonBody = operations().filter(({ operation }) => (operation.requestBody as RequestBodyObject | undefined)?.content['application/json']);

  it('the API has the operations the next two tests walk', () => {
    expect([withQuery.length, withJsonBody.length]).toEqual([22, 21]);
  });

  it.each(withQuery.map(({ method, path }) => [method.toUpperCase(), path]))('%s %s refuses an unknown query field', async (method, path) => {
    const req = t.http[method.toLowerCase() as 'get' | 'post' | 'delete'](`${path}?colour=blue`);
    // The sends take raw bytes unvalidated, so only their query is checked.
    const res = method === 'POST' ? await req.set('content-type', 'application/octet-stream').send(Buffer.from('x')) : await req;
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain('colour');
  });

  it.each(withJsonBody.map(({ method, path }) => [method.toUpperCase(), path]))('%s %s refuses an unknown field in its JSON body', async (method, path) => {
    const res = await t.http[method.toLowerCase() as 'post' | 'put'](path).send({ colour: 'blue' });
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain('colour');
  });

  it('validation problems list each offending field', async () => {
    const res = await t.http.post('/v1/tcp/listeners').send({ port: 'x', backlog: 0, bogus: true }).expect(400);
    expect([...new Set(res.body.errors.map((e: { field: string }) => e.field))].sort()).toEqual(['backlog', 'bogus', 'port']);
  });

  it('a missing required field is reported once, as required', async () => {
    const connect = await t.http.post('/v1/tcp/connections').send({ host: '127.0.0.1' }).expect(400);
    expect(connect.body).toMatchObject({ code: 'VALIDATION_FAILED', detail: 'port is required', errors: [{ field: 'port', message: 'port is required' }] });
    const release = await t.http.delete(`/v1/tcp/connections/${connectionId}/buffer`).expect(400);
    expect(release.body.errors).toEqual([{ field: 'upTo', message: 'upTo is required' }]);
    const send = await t.http.post(`/v1/tcp/connections/${connectionId}/send`).send({}).expect(400);
    expect(send.body.errors).toEqual([{ field: 'data', message: 'data is required' }]);
  });

  it('a field wrong in several ways gets one message', async () => {
    const res = await t.http.post('/v1/tcp/connections').send({ host: '127.0.0.1', port: 'eighty' }).expect(400);
    expect(res.body.errors).toEqual([{ field: 'port', message: 'port must be an integer number' }]);
  });

  it('PUT /v1/tcp/listeners › answers 405 METHOD_NOT_ALLOWED with the methods the path takes in Allow', async () => {
    const res = await t.http.put('/v1/tcp/listeners').send({ port: 0 });
    expect({ status: res.status, code: res.body.code, allow: res.headers.allow }).toEqual({ status: 405, code: 'METHOD_NOT_ALLOWED', allow: 'GET, HEAD, POST' });
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ title: ERROR_CATALOG.METHOD_NOT_ALLOWED.title, status: 405, instance: '/v1/tcp/listeners', detail: '/v1/tcp/listeners takes GET, HEAD, POST, not PUT' });
  });

  it.each(operationsByPath())('%s › answers every method it does not take with 405 and Allow: %s', async (path, allow) => {
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((m) => !allow.split(', ').includes(m))) {
      const res = await t.http[method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete'](path);
      expect({ method, status: res.status, code: res.body.code, allow: res.headers.allow }).toEqual({ method, status: 405, code: 'METHOD_NOT_ALLOWED', allow });
    }
  });

  it('answers HEAD where GET is served, and 404 for a path no method takes', async () => {
    await t.http.head('/v1/tcp/listeners').expect(200);
    const res = await t.http.put('/v1/tcp/sockets').expect(404);
    expect({ code: res.body.code, allow: res.headers.allow }).toEqual({ code: 'ROUTE_NOT_FOUND', allow: undefined });
  });

  it('the service still answers after all of that', async () => {
    await t.http.get('/v1/tcp/listeners').expect(200);
  });
});

describe('waitMs beyond the configured maximum', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ SOCKPLANE_MAX_WAIT_MS: '50' });
  });
  afterAll(() => t.close());

  // The docs say a longer wait is cut to SOCKPLANE_MAX_WAIT_MS; it used to be refused above 3,600,000.
  it('is cut to the maximum, not refused, on every long-poll', async () => {
    const listener = (await t.http.post('/v1/tcp/listeners').send({ port: 0 }).expect(201)).body;
    const connection = (await t.http.post('/v1/tcp/connections').send({ host: '127.0.0.1', port: listener.local.port }).expect(201)).body;
    const udp = (await t.http.post('/v1/udp/sockets').send({}).expect(201)).body;
    const longWait = String(3_600_001);

    const read = await t.http.get(`/v1/tcp/connections/${connection.id}/buffer`).query({ waitMs: longWait }).expect(200);
    expect(read.body).toMatchObject({ byteCount: 0, eof: false });
    const datagrams = await t.http.get(`/v1/udp/sockets/${udp.id}/datagrams`).query({ waitMs: '99999999999' }).expect(200);
    expect(datagrams.body.datagrams).toEqual([]);
    const accepted = await t.http.get(`/v1/tcp/listeners/${listener.id}/connections`).query({ after: 1, waitMs: longWait }).expect(200);
    expect(accepted.body.items).toEqual([]);
    expect((await t.http.get('/v1/limits').expect(200)).body.perRequest.waitMs).toBe(50);
  });
});
