import { SocketRegistry } from '../../src/sockets/socket-registry';
import { TestApp, startTestApp } from '../support/test-app';

describe('GET /health/live', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('answers 200 with the terminus result, never cached', async () => {
    const res = await t.http.get('/health/live').expect(200);
    expect(res.body).toEqual({ status: 'ok', info: {}, error: {}, details: {} });
    expect(res.headers['cache-control']).toContain('no-store');
  });
});

describe('GET /health/ready', () => {
  describe('with SOCKPLANE_MAX_SOCKETS=2', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ SOCKPLANE_MAX_SOCKETS: '2' });
    });
    afterAll(() => t.close());

    it('turns unready when the socket quota is exhausted, and ready again when a socket is freed', async () => {
      const ready = await t.http.get('/health/ready').expect(200);
      expect(ready.body).toMatchObject({ status: 'ok', details: { registry: { status: 'up' }, socketQuota: { status: 'up', held: 0, max: 2 }, eventLoop: { status: 'up' } } });

      const first = await t.http.post('/v1/tcp/listeners').send({ host: '127.0.0.1', port: 0 }).expect(201);
      await t.http.post('/v1/tcp/listeners').send({ host: '127.0.0.1', port: 0 }).expect(201);
      const unready = await t.http.get('/health/ready').expect(503);
      expect(unready.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(unready.body).toMatchObject({
        status: 503,
        code: 'NOT_READY',
        detail: 'not ready (socketQuota: socket quota exhausted)',
        error: { socketQuota: { status: 'down', held: 2, max: 2 } },
        info: { registry: { status: 'up' } },
      });

      await t.http.delete(`/v1/tcp/listeners/${first.body.id}`).expect(200);
      const again = await t.http.get('/health/ready').expect(200);
      expect(again.body.details.socketQuota).toEqual({ status: 'up', held: 1, max: 2 });
    });
  });

  describe('with SOCKPLANE_MAX_EVENT_LOOP_LAG_MS=200', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ SOCKPLANE_MAX_EVENT_LOOP_LAG_MS: '200' });
    });
    afterAll(() => t.close());

    it('is unready after the event loop stalled longer than the bound', async () => {
      // Node's delay histogram measures from its first tick on: let it start sampling.
      await new Promise((resolve) => setTimeout(resolve, 60));
      const stalledUntil = Date.now() + 400;
      while (Date.now() < stalledUntil);
      const res = await t.http.get('/health/ready').expect(503);
      expect(res.body.error.eventLoop).toMatchObject({ status: 'down', maxLagMs: 200, lagMs: expect.any(Number) });
      expect(res.body.error.eventLoop.lagMs).toBeGreaterThan(200);
    });

    it('is unready once shutdown began', async () => {
      await t.app.get(SocketRegistry).closeAll();
      const res = await t.http.get('/health/ready').expect(503);
      expect(res.body.error.registry).toEqual({ status: 'down', message: 'shutting down' });
    });
  });
});
