import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { InstanceCa } from '../../src/sockets/tls/instance-ca';
import { PythonPeer } from '../support/peers';
import { TestApp, startTestApp } from '../support/test-app';
import { TempDir, opensslSelfSigned } from '../support/tls';

/** `openssl s_client` that sends `line` once connected and resolves with its output once the echo came back. */
async function sClientEcho(args: string[], line: string): Promise<string> {
  const child = spawn('openssl', ['s_client', ...args]);
  let output = '';
  const echoed = new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      output += text;
      if (output.includes('---\n') && !child.stdin.writableEnded && output.includes('Verify return code')) child.stdin.write(`${line}\n`);
      if (output.split('\n').includes(line)) resolve();
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
    child.once('exit', () => reject(new Error(`s_client exited without the echo: ${output}`)));
  });
  try {
    await echoed;
    return output;
  } finally {
    child.kill();
    if (child.exitCode === null) await once(child, 'exit');
  }
}

describe('TLS listeners (implicit TLS)', () => {
  let t: TestApp;
  let dir: TempDir;
  let caFile: string;
  beforeAll(async () => {
    t = await startTestApp();
    dir = await TempDir.create();
    caFile = await dir.write('ca.pem', (await t.http.get('/v1/tls/ca?format=pem').expect(200)).text);
  });
  afterAll(async () => {
    await t.close();
    await dir.remove();
  });

  const echoListener = async (tls: object): Promise<{ id: string; port: number }> => {
    const res = await t.http.post('/v1/tcp/listeners').send({ host: '127.0.0.1', port: 0, mode: 'echo', tls }).expect(201);
    return { id: res.body.id, port: res.body.local.port };
  };

  /** The listener's first accepted connection, once it has closed (a read waits for its end). */
  const closedConnection = async (listenerId: string): Promise<Record<string, unknown>> => {
    const accepted = await t.http.get(`/v1/tcp/listeners/${listenerId}/connections`).query({ waitMs: 5000 }).expect(200);
    const id = accepted.body.items[0].id as string;
    await t.http.get(`/v1/tcp/connections/${id}/buffer`).query({ waitMs: 5000, maxBytes: 1 << 20 }).expect(200);
    return (await t.http.get(`/v1/tcp/connections/${id}`).expect(200)).body;
  };

  it('openssl s_client trusting the instance CA verifies the chain and gets its echo, for any SNI name', async () => {
    const listener = await echoListener({ mode: 'implicit' });
    const listed = await t.http.get(`/v1/tcp/listeners/${listener.id}`).expect(200);
    expect(listed.body.tls).toEqual({ mode: 'implicit', certificate: null, alpn: [], minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', requestClientCert: false, ownClientCa: false });
    for (const name of ['echo.example.test', 'second.example.test']) {
      const output = await sClientEcho(['-connect', `127.0.0.1:${listener.port}`, '-CAfile', caFile, '-servername', name, '-verify_hostname', name, '-verify_return_error'], 'ping');
      expect(output).toContain('Verify return code: 0 (ok)');
      expect(output).toMatch(new RegExp(`subject=CN ?= ?${name.replaceAll('.', '\\.')}`));
    }
    await t.http.delete(`/v1/tcp/listeners/${listener.id}?closeConnections=true`).expect(200);
  });

  it('the tutorial’s client.py in Python ssl gets its echo, and the connection shows its TLS session', async () => {
    const listener = await echoListener({ mode: 'implicit', alpn: ['http/1.1'] });
    const client = new PythonPeer('tutorial/tls_client.py', [listener.port, caFile, 'api.example.test']);
    expect(await client.exited).toBe(0);
    expect(client.stdout).toMatch(/^Received: Hello, server!\nVersion: TLSv1\.3\n$/);
    const connection = await closedConnection(listener.id);
    expect(connection).toMatchObject({
      counters: { bytesIn: 14, bytesOut: 14 },
      tls: {
        state: 'established',
        protocol: 'TLSv1.3',
        cipher: { name: expect.any(String), standardName: expect.stringMatching(/^TLS_/) },
        servername: 'api.example.test',
        alpnProtocol: null,
        authorized: false,
        peerCertificate: null,
        handshakeMs: expect.any(Number),
        startOffsets: { in: 0, out: 0 },
        failure: null,
      },
    });
    await t.http.delete(`/v1/tcp/listeners/${listener.id}?closeConnections=true`).expect(200);
  });

  it('presents a stored certificate when the listener names one', async () => {
    const made = await t.http.post('/v1/tls/certificates').send({ generate: { commonName: 'stored.example.test' } }).expect(201);
    const listener = await echoListener({ mode: 'implicit', certificate: made.body.id });
    const socket = tlsConnect({ host: '127.0.0.1', port: listener.port, ca: await readFile(caFile, 'utf8'), servername: 'stored.example.test' });
    await once(socket, 'secureConnect');
    expect(socket.getPeerCertificate().fingerprint256).toBe(made.body.fingerprint256);
    socket.destroy();
    await t.http.delete(`/v1/tcp/listeners/${listener.id}?closeConnections=true`).expect(200);
    const missing = await t.http.post('/v1/tcp/listeners').send({ port: 0, tls: { mode: 'implicit', certificate: 'ct_0000000000000000' } });
    expect({ status: missing.status, code: missing.body.code }).toEqual({ status: 404, code: 'CERTIFICATE_NOT_FOUND' });
  });

  it('mTLS: refuses a client without a certificate, and shows the certificate of one that has it', async () => {
    const listener = await echoListener({ mode: 'implicit', requestClientCert: true });
    const without = new PythonPeer('tutorial/tls_client.py', [listener.port, caFile, 'mtls.example.test']);
    expect(await without.exited).toBe(2);
    const refused = await closedConnection(listener.id);
    expect(refused).toMatchObject({ state: 'closed', tls: { state: 'failed', failure: expect.stringMatching(/certificate/i) } });

    const issued = await issueClientPair(t, dir);
    const withCert = new PythonPeer('tutorial/tls_client.py', [listener.port, caFile, 'mtls.example.test', issued.certFile, issued.keyFile]);
    expect(await withCert.exited).toBe(0);
    const accepted = await t.http.get(`/v1/tcp/listeners/${listener.id}/connections`).query({ after: 1, waitMs: 5000 }).expect(200);
    const shown = (await t.http.get(`/v1/tcp/connections/${accepted.body.items[0].id}`).expect(200)).body;
    expect(shown.tls).toMatchObject({ state: 'established', authorized: true, authorizationError: null, peerCertificate: { subject: 'CN=mtls-client.example.test', fingerprint256: issued.fingerprint256 } });
    await t.http.delete(`/v1/tcp/listeners/${listener.id}?closeConnections=true`).expect(200);
  });

  it('bad input: a plain client, garbage instead of a ClientHello, and an untrusted client each fail the handshake cleanly', async () => {
    const listener = await echoListener({ mode: 'implicit' });
    const plain = tcpConnect(listener.port, '127.0.0.1');
    await once(plain, 'connect');
    plain.end('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const afterPlain = await closedConnection(listener.id);
    expect(afterPlain).toMatchObject({ state: 'closed', tls: { state: 'failed', failure: expect.any(String) } });

    const garbage = tcpConnect(listener.port, '127.0.0.1');
    await once(garbage, 'connect');
    garbage.end(Buffer.from('16030100ff0100', 'hex'));
    const accepted = await t.http.get(`/v1/tcp/listeners/${listener.id}/connections`).query({ after: 1, waitMs: 5000 }).expect(200);
    const second = accepted.body.items[0].id as string;
    await t.http.get(`/v1/tcp/connections/${second}/buffer`).query({ waitMs: 5000 }).expect(200);
    expect((await t.http.get(`/v1/tcp/connections/${second}`).expect(200)).body.tls.state).toBe('failed');

    // A client trusting another CA refuses the minted leaf; the service survives and keeps serving.
    const other = await opensslSelfSigned(dir, 'other-ca');
    const untrusting = new PythonPeer('tutorial/tls_client.py', [listener.port, other.certFile, 'x.example.test']);
    expect(await untrusting.exited).toBe(2);
    expect(untrusting.stdout).toMatch(/CERTIFICATE_VERIFY_FAILED/);
    const trusting = new PythonPeer('tutorial/tls_client.py', [listener.port, caFile, 'x.example.test']);
    expect(await trusting.exited).toBe(0);
    const metrics = await t.http.get('/metrics').expect(200);
    expect(metrics.text).toMatch(/^sockplane_tls_handshakes_total\{outcome="failed"\} [1-9]\d*$/m);
    expect(metrics.text).toMatch(/^sockplane_tls_handshakes_total\{outcome="established"\} [1-9]\d*$/m);
    await t.http.delete(`/v1/tcp/listeners/${listener.id}?closeConnections=true`).expect(200);
  });

  it('refuses bad TLS settings with problem+json', async () => {
    const cases: [object, number, string][] = [
      [{ mode: 'sometimes' }, 400, 'VALIDATION_FAILED'],
      [{ mode: 'implicit', minVersion: 'TLSv1.3', maxVersion: 'TLSv1.2' }, 400, 'VALIDATION_FAILED'],
      [{ mode: 'implicit', certificate: 'not-an-id' }, 400, 'VALIDATION_FAILED'],
      [{ mode: 'implicit', requestClientCert: true, clientCa: 'garbage' }, 400, 'CERTIFICATE_INVALID'],
    ];
    for (const [tls, status, code] of cases) {
      const res = await t.http.post('/v1/tcp/listeners').send({ port: 0, tls });
      expect({ tls, status: res.status, code: res.body.code }).toEqual({ tls, status, code });
    }
  });
});

/** A client certificate signed by the instance CA, as files for Python's `load_cert_chain`. */
async function issueClientPair(t: TestApp, dir: TempDir): Promise<{ certFile: string; keyFile: string; fingerprint256: string }> {
  const ca = t.app.get(InstanceCa);
  const issued = await ca.issue({ commonName: 'mtls-client.example.test', subjectAltNames: [{ type: 'dns', value: 'mtls-client.example.test' }], validityDays: 1, keyType: 'ec-p256' });
  const certFile = await dir.write('client.crt', issued.certificatePem);
  const keyFile = await dir.write('client.key', issued.privateKeyPem);
  return { certFile, keyFile, fingerprint256: issued.info.fingerprint256 };
}

describe('TLS listeners with a short handshake timeout', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ SOCKPLANE_TLS_HANDSHAKE_TIMEOUT_MS: '300' });
  });
  afterAll(() => t.close());

  it('fails the handshake of a client that stays silent, and closes its connection', async () => {
    const listener = await t.http.post('/v1/tcp/listeners').send({ port: 0, mode: 'echo', tls: { mode: 'implicit' } }).expect(201);
    const silent = tcpConnect(listener.body.local.port, '127.0.0.1');
    const closed = once(silent, 'close');
    silent.on('error', () => undefined);
    const accepted = await t.http.get(`/v1/tcp/listeners/${listener.body.id}/connections`).query({ waitMs: 5000 }).expect(200);
    const id = accepted.body.items[0].id as string;
    await t.http.get(`/v1/tcp/connections/${id}/buffer`).query({ waitMs: 5000 }).expect(200);
    expect((await t.http.get(`/v1/tcp/connections/${id}`).expect(200)).body).toMatchObject({ state: 'closed', tls: { state: 'failed', failure: 'no TLS handshake within 300 ms' } });
    await closed;
    await t.http.delete(`/v1/tcp/listeners/${listener.body.id}`).expect(200);
  });
});
