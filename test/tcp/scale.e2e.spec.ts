import { once } from 'node:events';
import { Socket, connect } from 'node:net';
import { TestApp, startTestApp } from '../support/test-app';

const COUNT = 1000;

describe('1,000 connections on one listener', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('accepts them all, lists them page by page, and closes every one with the listener', async () => {
    const listener = await t.http.post('/v1/tcp/listeners').send({ port: 0, backlog: 2048, labels: { suite: 'scale' } }).expect(201);
    const clients: Socket[] = [];
    for (let i = 0; i < COUNT; i++) {
      const socket = connect({ port: listener.body.local.port, host: '127.0.0.1' });
      socket.on('error', () => undefined);
      clients.push(socket);
    }
    const closedAll = Promise.all(clients.map((socket) => once(socket, 'close')));
    await Promise.all(clients.map((socket) => once(socket, 'connect')));

    // Wait, without polling, until the last one has been accepted.
    let after = 0;
    while (after < COUNT) {
      const res = await t.http.get(`/v1/tcp/listeners/${listener.body.id}/connections`).query({ after, waitMs: 10000, limit: 1000 }).expect(200);
      after = res.body.lastAcceptIndex;
    }

    const seen = new Set<string>();
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await t.http
        .get('/v1/tcp/connections')
        .query({ listenerId: listener.body.id, limit: 100, ...(cursor ? { cursor } : {}) })
        .expect(200);
      for (const c of page.body.items) seen.add(c.id);
      cursor = page.body.nextCursor ?? undefined;
      pages++;
    } while (cursor);
    expect(seen.size).toBe(COUNT);
    expect(pages).toBe(COUNT / 100);

    const status = await t.http.get(`/v1/tcp/listeners/${listener.body.id}`).expect(200);
    expect(status.body.counters).toMatchObject({ accepted: COUNT, active: COUNT, dropped: 0 });

    await t.http.delete(`/v1/tcp/listeners/${listener.body.id}`).query({ closeConnections: true }).expect(200);
    await closedAll;
    const left = await t.http.get('/v1/tcp/connections').query({ listenerId: listener.body.id }).expect(200);
    expect(left.body.items).toEqual([]);
  });
});
