import { PythonPeer } from '../support/peers';
import { TestApp, startTestApp } from '../support/test-app';

describe('the tutorial’s TCP flows through the API', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('client.py against an echo listener prints "Received: Hello, server!"', async () => {
    const listener = await t.http.post('/v1/tcp/listeners').send({ host: '127.0.0.1', port: 0, mode: 'echo' }).expect(201);
    const client = new PythonPeer('tutorial/client.py', [listener.body.local.port]);
    expect(await client.exited).toBe(0);
    expect(client.stdout).toBe('Received: Hello, server!\n');

    const accepted = await t.http.get(`/v1/tcp/listeners/${listener.body.id}/connections`).expect(200);
    expect(accepted.body.items).toHaveLength(1);
    expect(accepted.body.items[0]).toMatchObject({ direction: 'inbound', listenerId: listener.body.id, counters: { bytesIn: 14, bytesOut: 14 } });
    await t.http.delete(`/v1/tcp/listeners/${listener.body.id}?closeConnections=true`).expect(200);
  });

  it('a client connection made through the API gets its echo back from server.py', async () => {
    const server = new PythonPeer('tutorial/server.py', [0]);
    const [, port] = await server.waitForOutput(/Listening on 127\.0\.0\.1:(\d+)/);

    const conn = await t.http.post('/v1/tcp/connections').send({ host: '127.0.0.1', port: Number(port) }).expect(201);
    expect(conn.body).toMatchObject({ direction: 'outbound', state: 'open', remote: { address: '127.0.0.1', port: Number(port) } });
    const sent = await t.http.post(`/v1/tcp/connections/${conn.body.id}/send`).send({ data: 'Hello, server!' }).expect(200);
    expect(sent.body).toMatchObject({ bytesSent: 14, bytesOut: 14 });

    const read = await t.http.get(`/v1/tcp/connections/${conn.body.id}/buffer`).query({ waitMs: 5000, minBytes: 14 }).expect(200);
    expect(read.body).toMatchObject({ data: 'Hello, server!', from: 0, nextOffset: 14, eof: false });

    await t.http.delete(`/v1/tcp/connections/${conn.body.id}`).expect(200);
    expect(await server.exited).toBe(0);
    expect(server.stdout).toMatch(/Connected by \('127\.0\.0\.1', \d+\)/);
  });

  it('IPv6: client.py on ::1 against an echo listener on ::1', async () => {
    const listener = await t.http.post('/v1/tcp/listeners').send({ host: '::1', port: 0, mode: 'echo' }).expect(201);
    expect(listener.body.local).toMatchObject({ address: '::1', family: 'IPv6' });
    const client = new PythonPeer('tutorial/client.py', [listener.body.local.port, '::1']);
    expect(await client.exited).toBe(0);
    expect(client.stdout).toBe('Received: Hello, server!\n');
    await t.http.delete(`/v1/tcp/listeners/${listener.body.id}?closeConnections=true`).expect(200);
  });

  it('IPv6: an API client on ::1 gets its echo from server.py on ::1', async () => {
    const server = new PythonPeer('tutorial/server.py', [0, '::1']);
    const [, port] = await server.waitForOutput(/Listening on ::1:(\d+)/);
    const conn = await t.http.post('/v1/tcp/connections').send({ host: '::1', port: Number(port) }).expect(201);
    expect(conn.body.remote).toMatchObject({ address: '::1', family: 'IPv6' });
    await t.http.post(`/v1/tcp/connections/${conn.body.id}/send`).send({ data: 'Hello, server!', end: true }).expect(200);
    const read = await t.http.get(`/v1/tcp/connections/${conn.body.id}/buffer`).query({ waitMs: 5000, minBytes: 14 }).expect(200);
    expect(read.body.data).toBe('Hello, server!');
    expect(await server.exited).toBe(0);
    // The server closed after our FIN: the last read reports the end of the stream.
    const last = await t.http.get(`/v1/tcp/connections/${conn.body.id}/buffer`).query({ from: 14, waitMs: 5000 }).expect(200);
    expect(last.body).toMatchObject({ byteCount: 0, eof: true });
  });
});
