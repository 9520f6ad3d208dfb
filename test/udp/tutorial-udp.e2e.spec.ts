import { PythonPeer } from '../support/peers';
import { TestApp, startTestApp } from '../support/test-app';

describe('the tutorial’s UDP flows through the API', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('udp_client.py against an echo socket prints "Received: b\'ping\' from (…)"', async () => {
    const socket = await t.http.post('/v1/udp/sockets').send({ host: '127.0.0.1', port: 0, mode: 'echo' }).expect(201);
    const port = socket.body.local.port;
    const client = new PythonPeer('tutorial/udp_client.py', [port]);
    expect(await client.exited).toBe(0);
    expect(client.stdout).toBe(`Received: b'ping' from ('127.0.0.1', ${port})\n`);

    const after = await t.http.get(`/v1/udp/sockets/${socket.body.id}`).expect(200);
    expect(after.body.counters).toEqual({ datagramsIn: 1, datagramsOut: 1, bytesIn: 4, bytesOut: 4, dropped: 0 });
    await t.http.delete(`/v1/udp/sockets/${socket.body.id}`).expect(200);
  });

  it('a socket made through the API sends ping to udp_server.py and reads the echo from it', async () => {
    const server = new PythonPeer('tutorial/udp_server.py', [0]);
    try {
      const [, port] = await server.waitForOutput(/UDP listening on 127\.0\.0\.1:(\d+)/);
      const socket = await t.http.post('/v1/udp/sockets').send({}).expect(201);
      expect(socket.body).toMatchObject({ type: 'udp4', state: 'bound', local: { address: '127.0.0.1', family: 'IPv4' }, remote: null });

      const sent = await t.http.post(`/v1/udp/sockets/${socket.body.id}/send`).send({ host: '127.0.0.1', port: Number(port), data: 'ping' }).expect(200);
      expect(sent.body).toMatchObject({ bytesSent: 4, destination: { address: '127.0.0.1', port: Number(port), family: 'IPv4' }, datagramsOut: 1 });

      const read = await t.http.get(`/v1/udp/sockets/${socket.body.id}/datagrams`).query({ waitMs: 5000 }).expect(200);
      expect(read.body).toMatchObject({ from: 0, nextSeq: 1, oldestSeq: 0, endSeq: 1, dropped: 0 });
      expect(read.body.datagrams).toEqual([
        { seq: 0, sender: { address: '127.0.0.1', port: Number(port), family: 'IPv4' }, size: 4, receivedAt: expect.any(String), data: 'ping' },
      ]);
      await server.waitForOutput(new RegExp(`From \\('127\\.0\\.0\\.1', ${socket.body.local.port}\\) : b'ping'`));
      await t.http.delete(`/v1/udp/sockets/${socket.body.id}`).expect(200);
    } finally {
      server.kill();
    }
  });

  it('IPv6: udp_client.py on ::1 against an echo socket on ::1', async () => {
    const socket = await t.http.post('/v1/udp/sockets').send({ type: 'udp6', host: '::1', mode: 'echo' }).expect(201);
    expect(socket.body.local).toMatchObject({ address: '::1', family: 'IPv6' });
    const port = socket.body.local.port;
    const client = new PythonPeer('tutorial/udp_client.py', [port, '::1']);
    expect(await client.exited).toBe(0);
    expect(client.stdout).toBe(`Received: b'ping' from ('::1', ${port}, 0, 0)\n`);
    await t.http.delete(`/v1/udp/sockets/${socket.body.id}`).expect(200);
  });

  it('IPv6: a udp6 socket on ::1 gets its echo from udp_server.py on ::1', async () => {
    const server = new PythonPeer('tutorial/udp_server.py', [0, '::1']);
    try {
      const [, port] = await server.waitForOutput(/UDP listening on ::1:(\d+)/);
      const socket = await t.http.post('/v1/udp/sockets').send({ type: 'udp6' }).expect(201);
      expect(socket.body.local).toMatchObject({ address: '::1', family: 'IPv6' });
      await t.http.post(`/v1/udp/sockets/${socket.body.id}/send`).send({ host: '::1', port: Number(port), data: 'ping' }).expect(200);
      const read = await t.http.get(`/v1/udp/sockets/${socket.body.id}/datagrams`).query({ waitMs: 5000 }).expect(200);
      expect(read.body.datagrams[0]).toMatchObject({ data: 'ping', sender: { address: '::1', port: Number(port), family: 'IPv6' } });
      await t.http.delete(`/v1/udp/sockets/${socket.body.id}`).expect(200);
    } finally {
      server.kill();
    }
  });
});
