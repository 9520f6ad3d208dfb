import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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
});
