import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExampleObject, OpenAPIObject, OperationObject, ParameterObject, RequestBodyObject, ResponseObject, SchemaObject } from '@nestjs/swagger';
import { buildOpenApiDocument, toSortedJson } from '../src/openapi/openapi';
import { TestApp, startTestApp } from './support/test-app';

describe('openapi/openapi.json', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('is what the code generates (run `npm run openapi` after changing the API)', () => {
    const committed = readFileSync(join(__dirname, '..', 'openapi', 'openapi.json'), 'utf8');
    expect(toSortedJson(buildOpenApiDocument(t.app))).toBe(committed);
  });

  it('is served at /docs-json, and Swagger UI at /docs', async () => {
    const json = await t.http.get('/docs-json').expect(200);
    expect(json.body.info.title).toBe('sockplane');
    const { version } = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
    expect(json.body.info.version).toBe(version);
    const ui = await t.http.get('/docs').expect(200);
    expect(ui.text).toContain('swagger-ui');
  });

  it('gives every operation a summary, a description, an operationId and its error responses', () => {
    const document = buildOpenApiDocument(t.app);
    for (const [path, item] of Object.entries(document.paths).filter(([p]) => p.startsWith('/v1/'))) {
      for (const [method, operation] of Object.entries(item)) {
        const where = `${method.toUpperCase()} ${path}`;
        expect({ where, summary: operation.summary }).toEqual({ where, summary: expect.any(String) });
        expect({ where, description: operation.description }).toEqual({ where, description: expect.any(String) });
        expect({ where, id: operation.operationId }).toEqual({ where, id: expect.stringMatching(/^[a-z][A-Za-z]+$/) });
        const errorStatuses = Object.keys(operation.responses).filter((status) => Number(status) >= 400);
        expect({ where, errorStatuses: errorStatuses.length > 0 }).toEqual({ where, errorStatuses: true });
      }
    }
  });

  it('gives every parameter but ids and every JSON request body an example to try', () => {
    const missing: string[] = [];
    for (const [path, method, operation] of operations(buildOpenApiDocument(t.app))) {
      for (const parameter of (operation.parameters ?? []) as ParameterObject[]) {
        const schema = parameter.schema as SchemaObject | undefined;
        if (parameter.in === 'path' && parameter.name === 'id') continue;
        if (parameter.example === undefined && parameter.examples === undefined && schema?.example === undefined) {
          missing.push(`${method} ${path} ${parameter.in} ${parameter.name}`);
        }
      }
      const json = (operation.requestBody as RequestBodyObject | undefined)?.content['application/json'];
      if (json && json.example === undefined && json.examples === undefined) missing.push(`${method} ${path} body`);
    }
    expect(missing).toEqual([]);
  });

  it('leaves every {id} without an example, saying which answer gives one (a made-up id only answers 404)', () => {
    const ids = operations(buildOpenApiDocument(t.app)).flatMap(([path, method, operation]) =>
      ((operation.parameters ?? []) as ParameterObject[]).filter((p) => p.in === 'path' && p.name === 'id').map((p) => ({ where: `${method} ${path}`, parameter: p })),
    );
    expect(ids.length).toBeGreaterThan(10);
    for (const { where, parameter } of ids) {
      const schema = parameter.schema as SchemaObject;
      expect({ where, example: parameter.example ?? parameter.examples ?? schema.example }).toEqual({ where, example: undefined });
      expect({ where, description: parameter.description }).toEqual({ where, description: expect.stringMatching(/ id: the `id` in the answer of `(POST|GET) \/v1\//) });
    }
  });

  it('shows each problem example with its own operation’s path as instance', () => {
    const document = buildOpenApiDocument(t.app);
    const send = document.paths['/v1/udp/sockets/{id}/send'].post as OperationObject;
    const notFound = (send.responses['404'] as ResponseObject).content?.['application/problem+json'].examples?.SOCKET_NOT_FOUND as ExampleObject;
    expect(notFound.value).toMatchObject({ instance: '/v1/udp/sockets/us_000001a1b2c3d4e5/send', detail: 'no UDP socket with id us_000001a1b2c3d4e5' });
    for (const [path, method, operation] of operations(document)) {
      for (const response of Object.values(operation.responses) as ResponseObject[]) {
        for (const example of Object.values(response.content?.['application/problem+json']?.examples ?? {}) as ExampleObject[]) {
          const pattern = new RegExp(`^${path.replace(/\{\w+\}/g, '[a-z]{2}_[0-9a-f]{16}')}$`);
          expect({ where: `${method} ${path}`, instance: example.value.instance }).toEqual({ where: `${method} ${path}`, instance: expect.stringMatching(pattern) });
        }
      }
    }
  });

  it('orders the tags as a newcomer meets the resources', () => {
    expect(buildOpenApiDocument(t.app).tags?.map((tag) => tag.name)).toEqual(['TCP listeners', 'TCP connections', 'UDP sockets', 'TLS', 'Proxies', 'Faults', 'Reply rules', 'Scenario', 'Events', 'Limits', 'Operations', 'Cluster']);
  });
});

function operations(document: OpenAPIObject): [string, string, OperationObject][] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]): [string, string, OperationObject] => [path, method.toUpperCase(), operation as OperationObject]),
  );
}
