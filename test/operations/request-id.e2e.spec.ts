import { TestApp, startTestApp } from '../support/test-app';

describe('x-request-id', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('echoes the caller’s request id', async () => {
    const res = await t.http.get('/v1/tcp/listeners').set('x-request-id', 'job-42.step:7').expect(200);
    expect(res.headers['x-request-id']).toBe('job-42.step:7');
  });

  it('replaces an id that is too long or not plain with a new UUID', async () => {
    for (const incoming of ['x'.repeat(129), 'a b', 'line\tbreak']) {
      const res = await t.http.get('/v1/tcp/listeners').set('x-request-id', incoming).expect(200);
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    }
  });

  it('gives every request an id, unknown routes and errors included', async () => {
    const missing = await t.http.get('/no/such/route').expect(404);
    const failed = await t.http.get('/v1/tcp/connections/tc_nope').expect(404);
    expect(missing.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(failed.headers['x-request-id']).not.toBe(missing.headers['x-request-id']);
  });
});
