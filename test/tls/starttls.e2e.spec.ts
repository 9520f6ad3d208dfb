import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { InstanceCa } from '../../src/sockets/tls/instance-ca';
import { PythonPeer } from '../support/peers';
import { TestApp, startTestApp } from '../support/test-app';
import { TempDir } from '../support/tls';

describe('STARTTLS: POST /v1/tcp/connections/{id}/tls', () => {
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

  /** The next CRLF-terminated line from `from`, and the offset after it. */
  const line = async (id: string, from: number): Promise<{ text: string; next: number }> => {
    const res = await t.http.get(`/v1/tcp/connections/${id}/buffer`).query({ from, waitMs: 5000, until: '\r\n' }).expect(200);
    expect(res.body.delimiterFound).toBe(true);
    return { text: res.body.data, next: res.body.nextOffset };
  };
  const send = (id: string, data: string): Promise<unknown> => t.http.post(`/v1/tcp/connections/${id}/send`).send({ data }).expect(200);

  it('Python smtplib against a starttls listener: 220 greeting, EHLO offering STARTTLS, 220 ready, the upgrade as server, then EHLO over TLS', async () => {
    const listener = await t.http.post('/v1/tcp/listeners').send({ port: 0, tls: { mode: 'starttls', minVersion: 'TLSv1.3' } }).expect(201);
    expect(listener.body.tls).toMatchObject({ mode: 'starttls', minVersion: 'TLSv1.3' });
    const client = new PythonPeer('smtp_starttls_client.py', [listener.body.local.port, caFile]);
    const accepted = await t.http.get(`/v1/tcp/listeners/${listener.body.id}/connections`).query({ waitMs: 5000 }).expect(200);
    const id = accepted.body.items[0].id as string;
    expect(accepted.body.items[0].tls.state).toBe('none');
    await send(id, '220 sockplane ESMTP\r\n');
    const ehlo = await line(id, 0);
    expect(ehlo.text).toBe('ehlo client.example.test\r\n');
    await send(id, '250-sockplane\r\n250 STARTTLS\r\n');
    const starttls = await line(id, ehlo.next);
    expect(starttls.text).toBe('STARTTLS\r\n');
    const clearOut = (await t.http.get(`/v1/tcp/connections/${id}`).expect(200)).body.counters.bytesOut;
    await send(id, '220 ready\r\n');
    // The ClientHello may already have arrived: from `inOffset` on, it goes to TLS.
    const upgraded = await t.http.post(`/v1/tcp/connections/${id}/tls`).send({ role: 'server', inOffset: starttls.next }).expect(200);
    expect(upgraded.body.tls).toMatchObject({ state: 'established', protocol: 'TLSv1.3', startOffsets: { in: starttls.next, out: clearOut + 11 } });
    const secureEhlo = await line(id, starttls.next);
    expect(secureEhlo.text).toBe('ehlo client.example.test\r\n');
    await send(id, '250 sockplane\r\n');
    expect(await client.exited).toBe(0);
    expect(client.stdout).toBe('STARTTLS offered: True\nEHLO over TLS: 250 TLSv1.3\n');
    const all = await t.http.get(`/v1/tcp/connections/${id}/buffer`).query({ from: 0, waitMs: 5000 }).expect(200);
    expect(all.body.data).toBe('ehlo client.example.test\r\nSTARTTLS\r\nehlo client.example.test\r\n');
    await t.http.delete(`/v1/tcp/listeners/${listener.body.id}?closeConnections=true`).expect(200);
  });

  it('a sockplane client upgrades against a Python STARTTLS server and gets its echo over TLS', async () => {
    const ca = t.app.get(InstanceCa);
    const issued = await ca.issue({ commonName: 'mail.example.test', subjectAltNames: [{ type: 'dns', value: 'mail.example.test' }], validityDays: 1, keyType: 'ec-p256' });
    const server = new PythonPeer('starttls_server.py', [0, await dir.write('mail.crt', issued.certificatePem), await dir.write('mail.key', issued.privateKeyPem)]);
    const port = Number((await server.waitForOutput(/Listening on 127\.0\.0\.1:(\d+)/))[1]);
    const conn = await t.http.post('/v1/tcp/connections').send({ host: '127.0.0.1', port }).expect(201);
    await send(conn.body.id, 'STARTTLS\r\n');
    const ready = await line(conn.body.id, 0);
    expect(ready.text).toBe('220 ready\r\n');
    const upgraded = await t.http.post(`/v1/tcp/connections/${conn.body.id}/tls`).send({ role: 'client', ca: 'instance', servername: 'mail.example.test', inOffset: ready.next }).expect(200);
    expect(upgraded.body.tls).toMatchObject({ state: 'established', authorized: true, peerCertificate: { subject: 'CN=mail.example.test' }, startOffsets: { in: ready.next, out: 10 } });
    await send(conn.body.id, 'over TLS\r\n');
    expect((await line(conn.body.id, ready.next)).text).toBe('over TLS\r\n');
    expect(await server.exited).toBe(0);
    expect(server.stdout).toMatch(/Command: STARTTLS\nTLS: TLSv1\.3\n/);
    await t.http.delete(`/v1/tcp/connections/${conn.body.id}`).expect(200);
  });

  it('a sockplane client upgrades against a sockplane connection taking the server side', async () => {
    const listener = await t.http.post('/v1/tcp/listeners').send({ port: 0 }).expect(201);
    const conn = await t.http.post('/v1/tcp/connections').send({ host: '127.0.0.1', port: listener.body.local.port }).expect(201);
    const accepted = await t.http.get(`/v1/tcp/listeners/${listener.body.id}/connections`).query({ waitMs: 5000 }).expect(200);
    const inbound = accepted.body.items[0].id as string;
    await send(conn.body.id, 'STARTTLS\r\n');
    const command = await line(inbound, 0);
    const [server, client] = await Promise.all([
      t.http.post(`/v1/tcp/connections/${inbound}/tls`).send({ role: 'server', inOffset: command.next }),
      t.http.post(`/v1/tcp/connections/${conn.body.id}/tls`).send({ role: 'client', ca: 'instance' }),
    ]);
    expect({ server: server.status, client: client.status }).toEqual({ server: 200, client: 200 });
    expect(client.body.tls).toMatchObject({ state: 'established', authorized: true, startOffsets: { in: 0, out: 10 } });
    await send(conn.body.id, 'secret\r\n');
    expect((await line(inbound, command.next)).text).toBe('secret\r\n');
    const again = await t.http.post(`/v1/tcp/connections/${conn.body.id}/tls`).send({ role: 'client' });
    expect({ status: again.status, code: again.body.code }).toEqual({ status: 409, code: 'TLS_UPGRADE_REFUSED' });
    // Frames are indexed by offset: a framed connection cannot hand bytes it already framed back to TLS.
    const framed = await t.http.post('/v1/tcp/connections').send({ host: '127.0.0.1', port: listener.body.local.port, framing: { type: 'lines' } }).expect(201);
    const framedPeer = (await t.http.get(`/v1/tcp/listeners/${listener.body.id}/connections`).query({ after: 1, waitMs: 5000 }).expect(200)).body.items[0].id as string;
    await send(framedPeer, 'STARTTLS\r\nearly');
    await t.http.get(`/v1/tcp/connections/${framed.body.id}/buffer`).query({ from: 0, waitMs: 5000, minBytes: 15 }).expect(200);
    const refused = await t.http.post(`/v1/tcp/connections/${framed.body.id}/tls`).send({ role: 'client', inOffset: 10 });
    expect({ status: refused.status, code: refused.body.code }).toEqual({ status: 409, code: 'TLS_UPGRADE_REFUSED' });
    await t.http.delete(`/v1/tcp/connections/${framed.body.id}?mode=reset`).expect(200);
    // A reset under TLS reaches the other side, which closes too: nothing is left open.
    await t.http.delete(`/v1/tcp/connections/${conn.body.id}?mode=reset`).expect(200);
    const end = await t.http.get(`/v1/tcp/connections/${inbound}/buffer`).query({ from: command.next + 8, waitMs: 5000 }).expect(200);
    expect(end.body.eof).toBe(true);
    expect((await t.http.get(`/v1/tcp/connections/${inbound}`).expect(200)).body).toMatchObject({ state: 'closed', closed: { reason: 'peer-reset' } });
    await t.http.delete(`/v1/tcp/listeners/${listener.body.id}?closeConnections=true`).expect(200);
  });

  it('hands a ClientHello that arrived before the upgrade to TLS, and logs only what TLS decrypted after it', async () => {
    const listener = await t.http.post('/v1/tcp/listeners').send({ port: 0 }).expect(201);
    const plain = tcpConnect(listener.body.local.port, '127.0.0.1');
    await once(plain, 'connect');
    plain.write('STARTTLS\r\n');
    const client = tlsConnect({ socket: plain, ca: await readFile(caFile, 'utf8'), servername: 'early.example.test' });
    const secure = once(client, 'secureConnect');
    const accepted = await t.http.get(`/v1/tcp/listeners/${listener.body.id}/connections`).query({ waitMs: 5000 }).expect(200);
    const id = accepted.body.items[0].id as string;
    // The ClientHello is in the byte log, past the command, before the upgrade is asked for.
    const early = await t.http.get(`/v1/tcp/connections/${id}/buffer`).query({ from: 0, waitMs: 5000, minBytes: 11 }).expect(200);
    expect(early.body.nextOffset).toBeGreaterThan(10);
    const upgraded = await t.http.post(`/v1/tcp/connections/${id}/tls`).send({ role: 'server', inOffset: 10 }).expect(200);
    expect(upgraded.body).toMatchObject({ buffer: { endOffset: 10 }, tls: { state: 'established', servername: 'early.example.test', startOffsets: { in: 10, out: 0 } } });
    await secure;
    client.write('after\r\n');
    expect((await line(id, 10)).text).toBe('after\r\n');
    client.destroy();
    await t.http.delete(`/v1/tcp/listeners/${listener.body.id}?closeConnections=true`).expect(200);
  });

  it('a failed upgrade answers 502 and closes the connection with tls.state failed', async () => {
    const listener = await t.http.post('/v1/tcp/listeners').send({ port: 0 }).expect(201);
    const conn = await t.http.post('/v1/tcp/connections').send({ host: '127.0.0.1', port: listener.body.local.port }).expect(201);
    const accepted = await t.http.get(`/v1/tcp/listeners/${listener.body.id}/connections`).query({ waitMs: 5000 }).expect(200);
    const inbound = accepted.body.items[0].id as string;
    const [server] = await Promise.all([
      t.http.post(`/v1/tcp/connections/${inbound}/tls`).send({ role: 'server' }),
      send(conn.body.id, 'this is no ClientHello, just text that goes on long enough\r\n'),
    ]);
    expect({ status: server.status, code: server.body.code }).toEqual({ status: 502, code: 'TLS_HANDSHAKE_FAILED' });
    const shown = (await t.http.get(`/v1/tcp/connections/${inbound}`).expect(200)).body;
    expect(shown).toMatchObject({ state: 'closed', tls: { state: 'failed', failure: expect.any(String) } });
    await t.http.delete(`/v1/tcp/listeners/${listener.body.id}?closeConnections=true`).expect(200);
    await t.http.delete(`/v1/tcp/connections/${conn.body.id}?mode=reset`).expect(200);
  });
});
