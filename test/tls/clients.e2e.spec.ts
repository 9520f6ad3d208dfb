import { once } from 'node:events';
import { AddressInfo } from 'node:net';
import { createServer } from 'node:tls';
import { InstanceCa } from '../../src/sockets/tls/instance-ca';
import { PythonPeer } from '../support/peers';
import { TestApp, startTestApp } from '../support/test-app';
import { TempDir } from '../support/tls';

describe('TLS client connections', () => {
  let t: TestApp;
  let dir: TempDir;
  let server: PythonPeer;
  let port: number;
  beforeAll(async () => {
    t = await startTestApp();
    dir = await TempDir.create();
    const ca = t.app.get(InstanceCa);
    const issued = await ca.issue({ commonName: 'py.example.test', subjectAltNames: [{ type: 'dns', value: 'py.example.test' }], validityDays: 1, keyType: 'ec-p256' });
    const certFile = await dir.write('server.crt', issued.certificatePem);
    const keyFile = await dir.write('server.key', issued.privateKeyPem);
    server = new PythonPeer('tutorial/tls_server.py', [0, certFile, keyFile]);
    port = Number((await server.waitForOutput(/Listening on 127\.0\.0\.1:(\d+)/))[1]);
  });
  afterAll(async () => {
    server.kill();
    await t.close();
    await dir.remove();
  });

  const refusal = async (tls: object): Promise<{ status: number; code: string; detail: string }> => {
    const res = await t.http.post('/v1/tcp/connections').send({ host: '127.0.0.1', port, tls });
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    return { status: res.status, code: res.body.code, detail: res.body.detail };
  };

  it('refuses an untrusted certificate, a wrong name and a broken handshake with problem+json naming the reason', async () => {
    expect(await refusal({ mode: 'implicit', servername: 'py.example.test' })).toMatchObject({ status: 502, code: 'TLS_CERT_UNTRUSTED' });
    expect(await refusal({ mode: 'implicit', ca: 'instance', servername: 'wrong.example.test' })).toMatchObject({
      status: 502,
      code: 'TLS_HOSTNAME_MISMATCH',
      detail: expect.stringContaining('wrong.example.test'),
    });
    const plain = await t.http.post('/v1/tcp/listeners').send({ port: 0, mode: 'echo' }).expect(201);
    const broken = await t.http.post('/v1/tcp/connections').send({ host: '127.0.0.1', port: plain.body.local.port, tls: { mode: 'implicit', ca: 'instance' } });
    expect({ status: broken.status, code: broken.body.code }).toEqual({ status: 502, code: 'TLS_HANDSHAKE_FAILED' });
    expect(broken.body.reason).toEqual(expect.any(String));
    await t.http.delete(`/v1/tcp/listeners/${plain.body.id}?closeConnections=true`).expect(200);
    const invalid = await t.http.post('/v1/tcp/connections').send({ host: '127.0.0.1', port, tls: { mode: 'implicit', ca: 'not a PEM' } });
    expect({ status: invalid.status, code: invalid.body.code }).toEqual({ status: 400, code: 'CERTIFICATE_INVALID' });
  });

  it('refuses an expired certificate and a certificate for another name, from a Node TLS server and a TLS listener', async () => {
    const ca = t.app.get(InstanceCa);
    const expired = await ca.issue({ commonName: 'old.example.test', subjectAltNames: [{ type: 'dns', value: 'old.example.test' }], validityDays: 1, keyType: 'ec-p256' }, new Date(Date.now() - 3 * 86_400_000));
    const old = createServer({ key: expired.privateKeyPem, cert: expired.certificatePem }, (socket) => socket.end());
    old.on('tlsClientError', () => undefined);
    old.listen(0, '127.0.0.1');
    await once(old, 'listening');
    try {
      const res = await t.http.post('/v1/tcp/connections').send({ host: '127.0.0.1', port: (old.address() as AddressInfo).port, tls: { mode: 'implicit', ca: 'instance', servername: 'old.example.test' } });
      expect({ status: res.status, code: res.body.code, verifyCode: res.body.verifyCode }).toEqual({ status: 502, code: 'TLS_CERT_UNTRUSTED', verifyCode: 'CERT_HAS_EXPIRED' });
    } finally {
      old.close();
    }
    const stored = await t.http.post('/v1/tls/certificates').send({ generate: { commonName: 'stored.example.test' } }).expect(201);
    const listener = await t.http.post('/v1/tcp/listeners').send({ port: 0, mode: 'echo', tls: { mode: 'implicit', certificate: stored.body.id } }).expect(201);
    const wrong = await t.http.post('/v1/tcp/connections').send({ host: '127.0.0.1', port: listener.body.local.port, tls: { mode: 'implicit', ca: 'instance', servername: 'other.example.test' } });
    expect({ status: wrong.status, code: wrong.body.code }).toEqual({ status: 502, code: 'TLS_HOSTNAME_MISMATCH' });
    await t.http.delete(`/v1/tcp/listeners/${listener.body.id}?closeConnections=true`).expect(200);
    const metrics = await t.http.get('/metrics').expect(200);
    expect(metrics.text).toMatch(/^sockplane_tcp_connects_total\{outcome="TLS_HOSTNAME_MISMATCH"\} [1-9]\d*$/m);
  });

  it('a sockplane TLS client gets its echo back from the tutorial’s server.py in Python ssl', async () => {
    const conn = await t.http.post('/v1/tcp/connections').send({ host: '127.0.0.1', port, tls: { mode: 'implicit', ca: 'instance', servername: 'py.example.test' } }).expect(201);
    expect(conn.body.tls).toMatchObject({
      state: 'established',
      protocol: 'TLSv1.3',
      servername: 'py.example.test',
      authorized: true,
      authorizationError: null,
      peerCertificate: { subject: 'CN=py.example.test', subjectAltName: 'DNS:py.example.test' },
    });
    await t.http.post(`/v1/tcp/connections/${conn.body.id}/send`).send({ data: 'Hello, server!', end: true }).expect(200);
    const read = await t.http.get(`/v1/tcp/connections/${conn.body.id}/buffer`).query({ waitMs: 5000, minBytes: 14 }).expect(200);
    expect(read.body.data).toBe('Hello, server!');
    expect(await server.exited).toBe(0);
    expect(server.stdout).toMatch(/Connected by \('127\.0\.0\.1', \d+\)/);
  });

  it('negotiates ALPN, and presents a stored client certificate to a listener that requires one', async () => {
    const listener = await t.http.post('/v1/tcp/listeners').send({ port: 0, mode: 'echo', tls: { mode: 'implicit', alpn: ['h2', 'http/1.1'], requestClientCert: true } }).expect(201);
    const target = { host: '127.0.0.1', port: listener.body.local.port };
    // In TLS 1.3 the server refuses a missing certificate after the client's side of the handshake ended:
    // the client connects, and the server's alert ends its stream at once.
    const without = await t.http.post('/v1/tcp/connections').send({ ...target, tls: { mode: 'implicit', ca: 'instance' } }).expect(201);
    const ended = await t.http.get(`/v1/tcp/connections/${without.body.id}/buffer`).query({ waitMs: 5000 }).expect(200);
    expect(ended.body).toMatchObject({ byteCount: 0, eof: true });
    await t.http.delete(`/v1/tcp/connections/${without.body.id}?mode=reset`).expect(200);
    const cert = await t.http.post('/v1/tls/certificates').send({ generate: { commonName: 'client.example.test' } }).expect(201);
    const conn = await t.http.post('/v1/tcp/connections').send({ ...target, tls: { mode: 'implicit', ca: 'instance', alpn: ['http/1.1'], clientCertificate: cert.body.id } }).expect(201);
    expect(conn.body.tls).toMatchObject({ state: 'established', alpnProtocol: 'http/1.1' });
    const accepted = await t.http.get(`/v1/tcp/listeners/${listener.body.id}/connections`).query({ after: 1, waitMs: 5000 }).expect(200);
    const inbound = (await t.http.get(`/v1/tcp/connections/${accepted.body.items[0].id}`).expect(200)).body;
    expect(inbound.tls).toMatchObject({ state: 'established', alpnProtocol: 'http/1.1', authorized: true, peerCertificate: { subject: 'CN=client.example.test', fingerprint256: cert.body.fingerprint256 } });
    await t.http.delete(`/v1/tcp/listeners/${listener.body.id}?closeConnections=true`).expect(200);
    await t.http.delete(`/v1/tcp/connections/${conn.body.id}`).expect(200);
  });

  it('the Swagger examples work as sent: a TLS echo listener and a client trusting the instance CA', async () => {
    const listener = await t.http.post('/v1/tcp/listeners').send({ host: '127.0.0.1', port: 0, mode: 'echo', tls: { mode: 'implicit' }, labels: { demo: 'tls' } }).expect(201);
    const conn = await t.http
      .post('/v1/tcp/connections')
      .send({ host: '127.0.0.1', port: listener.body.local.port, tls: { mode: 'implicit', ca: 'instance' }, labels: { demo: 'tls' } })
      .expect(201);
    expect(conn.body.tls).toMatchObject({ state: 'established', authorized: true, servername: null, peerCertificate: { subjectAltName: expect.stringContaining('IP Address:127.0.0.1') } });
    await t.http.post(`/v1/tcp/connections/${conn.body.id}/send`).send({ data: 'ping' }).expect(200);
    const read = await t.http.get(`/v1/tcp/connections/${conn.body.id}/buffer`).query({ waitMs: 5000, minBytes: 4 }).expect(200);
    expect(read.body.data).toBe('ping');

    const lax = await t.http.post('/v1/tcp/connections').send({ host: '127.0.0.1', port: listener.body.local.port, tls: { mode: 'implicit', rejectUnauthorized: false } }).expect(201);
    expect(lax.body.tls).toMatchObject({ state: 'established', authorized: false, authorizationError: expect.any(String) });
    await t.http.delete(`/v1/tcp/listeners/${listener.body.id}?closeConnections=true`).expect(200);
    await t.http.delete(`/v1/tcp/connections/${conn.body.id}`).expect(200);
    await t.http.delete(`/v1/tcp/connections/${lax.body.id}`).expect(200);
  });
});
