import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Response } from 'supertest';
import { InstanceCa } from '../../src/sockets/tls/instance-ca';
import { ServerProcess, compileServer, removeCompiled, startServerProcess } from '../support/server-process';
import { TestApp, startTestApp } from '../support/test-app';
import { TempDir, openssl, opensslSelfSigned } from '../support/tls';
import { EXAMPLE_UPLOAD } from '../support/upload-example';

const ALICE = 'alice-secret-0123456789';
const BOB = 'bob-secret-0123456789';
const bearer = (secret: string): Record<string, string> => ({ authorization: `Bearer ${secret}` });
const GENERATE = { generate: { commonName: 'api.example.test', subjectAltNames: ['api.example.test', '127.0.0.1'], validityDays: 90, keyType: 'ec-p256' } };

/** Every answer a test saw, so the last test can check that none carried a key. */
const answers: string[] = [];
const seen = (res: Response): Response => {
  answers.push(res.text ?? '', JSON.stringify(res.headers));
  return res;
};

function expectProblem(res: Response, status: number, code: string): void {
  expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ type: `urn:sockplane:problem:${code.toLowerCase().replaceAll('_', '-')}`, status, detail: expect.any(String), instance: expect.stringMatching(/^\/v1\/tls\//) });
}

describe('/v1/tls', () => {
  let t: TestApp;
  let dir: TempDir;
  let mismatched: { certificate: string; privateKey: string };
  beforeAll(async () => {
    t = await startTestApp();
    dir = await TempDir.create();
    const one = await opensslSelfSigned(dir, 'one.example.test', ['-days', '2']);
    const two = await opensslSelfSigned(dir, 'two.example.test', ['-days', '2']);
    mismatched = { certificate: await readFile(one.certFile, 'utf8'), privateKey: await readFile(two.keyFile, 'utf8') };
  });
  afterAll(async () => {
    await t.close();
    await dir.remove();
  });

  describe('GET /v1/tls/ca', () => {
    it('answers the CA certificate and its fingerprint, public material only', async () => {
      const res = seen(await t.http.get('/v1/tls/ca').expect(200));
      const cert = new X509Certificate(res.body.certificate);
      expect(res.body).toEqual({
        certificate: expect.stringMatching(/^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\n$/),
        fingerprint256: cert.fingerprint256,
        subject: expect.stringMatching(/^CN=sockplane instance CA [0-9a-f]{8}, O=sockplane$/),
        serialNumber: cert.serialNumber.toUpperCase(),
        validFrom: cert.validFromDate.toISOString(),
        validTo: cert.validToDate.toISOString(),
        source: 'generated',
      });
      expect(cert.ca).toBe(true);
    });

    it('answers the bare PEM for format=pem and for Accept: application/x-pem-file, which openssl reads', async () => {
      const json = seen(await t.http.get('/v1/tls/ca').expect(200));
      for (const res of [await t.http.get('/v1/tls/ca?format=pem').expect(200), await t.http.get('/v1/tls/ca').set('accept', 'application/x-pem-file').expect(200)]) {
        seen(res);
        expect(res.headers['content-type']).toBe('application/x-pem-file; charset=utf-8');
        expect(res.headers.vary).toMatch(/Accept/);
        expect(res.text).toBe(json.body.certificate);
      }
      const file = await dir.write('ca.pem', json.body.certificate);
      const printed = await openssl(['x509', '-in', file, '-noout', '-fingerprint', '-sha256']);
      // OpenSSL 3.0 spells the digest `sha256`, later versions `SHA2-256`; the hex is the same.
      expect(printed.stdout.trim()).toMatch(new RegExp(`^\\S+ Fingerprint=${json.body.fingerprint256}$`));
    });

    it('answers JSON for format=json whatever Accept says, and refuses another format', async () => {
      const res = seen(await t.http.get('/v1/tls/ca?format=json').set('accept', 'application/x-pem-file').expect(200));
      expect(res.body.fingerprint256).toEqual(expect.any(String));
      expectProblem(seen(await t.http.get('/v1/tls/ca?format=der')), 400, 'VALIDATION_FAILED');
    });
  });

  describe('POST /v1/tls/certificates', () => {
    it('generates a certificate signed by the instance CA and answers it without a key', async () => {
      const ca = seen(await t.http.get('/v1/tls/ca').expect(200)).body;
      const res = seen(await t.http.post('/v1/tls/certificates').send(GENERATE).expect(201));
      expect(res.body).toMatchObject({
        id: expect.stringMatching(/^ct_[0-9a-f]{16}$/),
        kind: 'tls-certificate',
        source: 'generated',
        subject: 'CN=api.example.test',
        issuer: ca.subject,
        subjectAltNames: ['DNS:api.example.test', 'IP:127.0.0.1'],
        keyAlgorithm: 'ec-p256',
        isCa: false,
        chain: [],
      });
      const cert = new X509Certificate(res.body.certificate);
      expect(cert.verify(new X509Certificate(ca.certificate).publicKey)).toBe(true);
      expect(res.body.fingerprint256).toBe(cert.fingerprint256);
      expect(Object.keys(res.body)).not.toContain('privateKey');
    });

    it('takes an uploaded certificate and key', async () => {
      const res = seen(await t.http.post('/v1/tls/certificates').send(EXAMPLE_UPLOAD).expect(201));
      expect(res.body).toMatchObject({ source: 'upload', subject: 'CN=upload.example.test', issuer: 'CN=upload.example.test', subjectAltNames: ['DNS:upload.example.test'], keyAlgorithm: 'ec-p256' });
    });

    it('refuses garbage PEM, a key that does not match, and an expired certificate with problem+json', async () => {
      const ca = await InstanceCa.generate();
      const expired = await ca.issue({ commonName: 'old.test', subjectAltNames: [{ type: 'dns', value: 'old.test' }], validityDays: 10, keyType: 'ec-p256' }, new Date('2021-03-01T00:00:00Z'));
      const cases: [string, object, number, string][] = [
        ['garbage certificate', { certificate: 'garbage', privateKey: EXAMPLE_UPLOAD.privateKey }, 400, 'CERTIFICATE_INVALID'],
        ['garbage key', { certificate: EXAMPLE_UPLOAD.certificate, privateKey: 'garbage' }, 400, 'PRIVATE_KEY_INVALID'],
        ['key of another certificate', mismatched, 400, 'KEY_MISMATCH'],
        ['expired certificate', { certificate: expired.certificatePem, privateKey: expired.privateKeyPem }, 400, 'CERTIFICATE_EXPIRED'],
        ['a chain that did not issue it', { ...EXAMPLE_UPLOAD, chain: ca.certificatePem }, 400, 'CERTIFICATE_INVALID'],
        ['a SAN that is no name', { generate: { commonName: 'x', subjectAltNames: ['not a name'] } }, 400, 'INVALID_SERVER_NAME'],
        ['both an upload and generate', { ...EXAMPLE_UPLOAD, generate: GENERATE.generate }, 400, 'VALIDATION_FAILED'],
        ['neither', {}, 400, 'VALIDATION_FAILED'],
        ['an unknown key type', { generate: { commonName: 'x.test', keyType: 'dsa-1024' } }, 400, 'VALIDATION_FAILED'],
        ['a validity out of range', { generate: { commonName: 'x.test', validityDays: 0 } }, 400, 'VALIDATION_FAILED'],
      ];
      for (const [name, body, status, code] of cases) {
        const res = seen(await t.http.post('/v1/tls/certificates').send(body));
        expect({ name, status: res.status, code: res.body.code }).toEqual({ name, status, code });
        expectProblem(res, status, code);
      }
    });

    it('names the fields at fault', async () => {
      const neither = seen(await t.http.post('/v1/tls/certificates').send({}).expect(400));
      expect(neither.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['certificate', 'privateKey']);
      const mismatch = seen(await t.http.post('/v1/tls/certificates').send(mismatched).expect(400));
      expect(mismatch.body).toMatchObject({ field: 'privateKey', detail: 'privateKey does not belong to certificate: their public keys differ' });
      const badName = seen(await t.http.post('/v1/tls/certificates').send({ generate: { commonName: 'x', subjectAltNames: ['ok.test', 'bad name'] } }).expect(400));
      expect(badName.body).toMatchObject({ field: 'subjectAltNames.1' });
    });
  });

  describe('GET, list and DELETE /v1/tls/certificates', () => {
    it('gets, lists a page at a time, and deletes a certificate, which is then not found', async () => {
      const created = seen(await t.http.post('/v1/tls/certificates').send({ generate: { commonName: 'listed.example.test' } }).expect(201)).body;
      const got = seen(await t.http.get(`/v1/tls/certificates/${created.id}`).expect(200));
      expect(got.body).toEqual(created);
      const all = seen(await t.http.get('/v1/tls/certificates').expect(200)).body;
      expect(all.items.map((c: { id: string }) => c.id)).toContain(created.id);
      expect(all.nextCursor).toBeNull();
      const first = seen(await t.http.get('/v1/tls/certificates?limit=1').expect(200)).body;
      expect(first.items).toHaveLength(1);
      const second = seen(await t.http.get(`/v1/tls/certificates?limit=1&cursor=${first.nextCursor}`).expect(200)).body;
      expect(second.items[0].id).toBe(all.items[1].id);
      expect(seen(await t.http.delete(`/v1/tls/certificates/${created.id}`).expect(200)).body).toEqual(created);
      expectProblem(seen(await t.http.get(`/v1/tls/certificates/${created.id}`)), 404, 'CERTIFICATE_NOT_FOUND');
      expectProblem(seen(await t.http.delete(`/v1/tls/certificates/${created.id}`)), 404, 'CERTIFICATE_NOT_FOUND');
    });

    it('answers 404 for an unknown id and 400 for a bad cursor or query', async () => {
      expectProblem(seen(await t.http.get('/v1/tls/certificates/ct_000001a1b2c3d4e5')), 404, 'CERTIFICATE_NOT_FOUND');
      expectProblem(seen(await t.http.get('/v1/tls/certificates?cursor=czk5OTk5OTk5OTk5OTk5OTk5OTk')), 400, 'INVALID_CURSOR');
      expectProblem(seen(await t.http.get('/v1/tls/certificates?label=a:b')), 400, 'VALIDATION_FAILED');
    });
  });

  it('never answered with a private key', () => {
    expect(answers.length).toBeGreaterThan(30);
    expect(answers.filter((text) => text.includes('PRIVATE KEY'))).toEqual([]);
  });
});

describe('/v1/tls with uploads switched off and a certificate limit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ SOCKPLANE_TLS_ALLOW_UPLOADS: 'false', SOCKPLANE_TLS_MAX_CERTIFICATES: '2' });
  });
  afterAll(() => t.close());

  it('refuses uploads with 403 UPLOADS_DISABLED, and still generates', async () => {
    expectProblem(await t.http.post('/v1/tls/certificates').send(EXAMPLE_UPLOAD), 403, 'UPLOADS_DISABLED');
    await t.http.post('/v1/tls/certificates').send(GENERATE).expect(201);
  });

  it('refuses a certificate beyond the limit with 429', async () => {
    await t.http.post('/v1/tls/certificates').send(GENERATE).expect(201);
    const res = await t.http.post('/v1/tls/certificates').send(GENERATE);
    expectProblem(res, 429, 'QUOTA_EXCEEDED');
    expect(res.body).toMatchObject({ limit: 'maxCertificates', max: 2 });
  });
});

describe('/v1/tls with a small PEM limit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ SOCKPLANE_TLS_MAX_PEM_BYTES: '512' });
  });
  afterAll(() => t.close());

  it('refuses an upload carrying more PEM than allowed with 413', async () => {
    const res = await t.http.post('/v1/tls/certificates').send(EXAMPLE_UPLOAD);
    expectProblem(res, 413, 'BODY_TOO_LARGE');
    expect(res.body).toMatchObject({ limit: 'maxPemBytes', max: 512 });
  });
});

describe('/v1/tls with the CA loaded from files', () => {
  let dir: TempDir;
  beforeAll(async () => {
    dir = await TempDir.create();
  });
  afterAll(() => dir.remove());

  it('serves the CA the files hold, and signs with it', async () => {
    const { certFile, keyFile } = await opensslSelfSigned(dir, 'files-ca', ['-days', '30']);
    const t = await startTestApp({ SOCKPLANE_TLS_CA_CERT_FILE: certFile, SOCKPLANE_TLS_CA_KEY_FILE: keyFile });
    try {
      const ca = (await t.http.get('/v1/tls/ca').expect(200)).body;
      expect(ca).toMatchObject({ subject: 'CN=files-ca', source: 'files', certificate: await readFile(certFile, 'utf8') });
      const made = (await t.http.post('/v1/tls/certificates').send(GENERATE).expect(201)).body;
      expect(made.issuer).toBe('CN=files-ca');
    } finally {
      await t.close();
    }
  });

  it('refuses to start with a key that is not the CA’s, or with one file named', async () => {
    const { certFile } = await opensslSelfSigned(dir, 'ca-a');
    const { keyFile } = await opensslSelfSigned(dir, 'ca-b');
    await expect(startTestApp({ SOCKPLANE_TLS_CA_CERT_FILE: certFile, SOCKPLANE_TLS_CA_KEY_FILE: keyFile })).rejects.toThrow(/the CA key does not belong to the CA certificate/);
    await expect(startTestApp({ SOCKPLANE_TLS_CA_CERT_FILE: certFile })).rejects.toThrow(/name both SOCKPLANE_TLS_CA_CERT_FILE and SOCKPLANE_TLS_CA_KEY_FILE, or neither/);
  });
});

describe('/v1/tls with API keys', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ SOCKPLANE_API_KEYS: `alice:${ALICE},bob:${BOB}` });
  });
  afterAll(() => t.close());

  it('keeps each key’s certificates its own', async () => {
    await t.http.get('/v1/tls/ca').expect(401);
    const mine = (await t.http.post('/v1/tls/certificates').set(bearer(ALICE)).send(GENERATE).expect(201)).body;
    expectProblem(await t.http.get(`/v1/tls/certificates/${mine.id}`).set(bearer(BOB)), 404, 'CERTIFICATE_NOT_FOUND');
    expectProblem(await t.http.delete(`/v1/tls/certificates/${mine.id}`).set(bearer(BOB)), 404, 'CERTIFICATE_NOT_FOUND');
    expect((await t.http.get('/v1/tls/certificates').set(bearer(BOB)).expect(200)).body.items).toEqual([]);
    expect((await t.http.get('/v1/tls/certificates').set(bearer(ALICE)).expect(200)).body.items.map((c: { id: string }) => c.id)).toEqual([mine.id]);
  });
});

describe('/v1/tls logs', () => {
  let compiled: string;
  let server: ServerProcess;
  beforeAll(async () => {
    compiled = compileServer();
    server = await startServerProcess(compiled, { SOCKPLANE_LOG_LEVEL: 'trace', SOCKPLANE_SHED_EVENT_LOOP_DELAY_MS: '0' }, 1024);
  });
  afterAll(async () => {
    await server.stop();
    removeCompiled(compiled);
  });

  it('never log a private key, at the most verbose level, for uploads that succeed or fail', async () => {
    const post = (body: object): Promise<globalThis.Response> =>
      fetch(`${server.url}/v1/tls/certificates`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post(EXAMPLE_UPLOAD)).status).toBe(201);
    expect((await post({ certificate: 'garbage', privateKey: EXAMPLE_UPLOAD.privateKey })).status).toBe(400);
    expect((await post({ certificate: EXAMPLE_UPLOAD.certificate, privateKey: EXAMPLE_UPLOAD.privateKey.slice(0, 120) })).status).toBe(400);
    expect((await post({ ...EXAMPLE_UPLOAD, colour: 'blue' })).status).toBe(400);
    expect((await post(GENERATE)).status).toBe(201);
    await server.stop();
    const output = server.output();
    expect(output).toMatch(/"path":"\/v1\/tls\/certificates"/);
    expect(output).not.toContain('PRIVATE KEY');
    expect(output).not.toContain(EXAMPLE_UPLOAD.privateKey.split('\n')[1]);
  });
});
