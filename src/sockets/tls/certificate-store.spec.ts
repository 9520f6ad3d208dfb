import { readFile } from 'node:fs/promises';
import { inspect } from 'node:util';
import { TempDir, openssl, opensslSelfSigned, sniServer, tlsProbe } from '../../../test/support/tls';
import { CertificateStore, CertificateStoreOptions } from './certificate-store';
import { InstanceCa } from './instance-ca';
import { TlsError } from './tls-error';

const OPTIONS: CertificateStoreOptions = { maxCertificates: 10, maxPemBytes: 65_536, allowUploads: true };

describe('CertificateStore', () => {
  let ca: InstanceCa;
  let dir: TempDir;
  let selfSigned: { cert: string; key: string };
  let otherKey: string;
  beforeAll(async () => {
    ca = await InstanceCa.generate();
    dir = await TempDir.create();
    const made = await opensslSelfSigned(dir, 'upload.example.test', ['-days', '2', '-addext', 'subjectAltName=DNS:upload.example.test,IP:127.0.0.1']);
    selfSigned = { cert: await readFile(made.certFile, 'utf8'), key: await readFile(made.keyFile, 'utf8') };
    otherKey = await readFile((await opensslSelfSigned(dir, 'other')).keyFile, 'utf8');
  });
  afterAll(() => dir.remove());

  const refusal = (code: string, message: RegExp) => expect.objectContaining({ constructor: TlsError, code, message: expect.stringMatching(message) });

  it('stores an upload and describes it as openssl would, without its key', () => {
    const store = new CertificateStore(ca, OPTIONS);
    const record = store.upload({ certificate: selfSigned.cert, privateKey: selfSigned.key }, 'key-a');
    expect(record).toMatchObject({
      id: expect.stringMatching(/^ct_[0-9a-f]{16}$/),
      owner: 'key-a',
      source: 'upload',
      keyAlgorithm: 'ec-p256',
      chain: [],
      info: { subject: 'CN=upload.example.test', issuer: 'CN=upload.example.test', subjectAltNames: ['DNS:upload.example.test', 'IP:127.0.0.1'], isCa: true },
    });
    expect(record.info.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(JSON.stringify(record)).not.toContain('PRIVATE KEY');
    expect(inspect(store, { depth: 10, showHidden: true })).not.toContain('PRIVATE KEY');
    expect(store.credentials(record.id, 'key-a').key).toContain('-----BEGIN PRIVATE KEY-----');
  });

  it('matches openssl’s fingerprint and serial', async () => {
    const store = new CertificateStore(ca, OPTIONS);
    const record = store.upload({ certificate: selfSigned.cert, privateKey: selfSigned.key }, null);
    const file = await dir.write('fingerprint.pem', selfSigned.cert);
    const printed = await openssl(['x509', '-in', file, '-noout', '-fingerprint', '-sha256', '-serial']);
    expect(printed.stdout).toContain(`Fingerprint=${record.info.fingerprint256}`);
    expect(printed.stdout).toContain(`serial=${record.info.serialNumber}`);
  });

  it('refuses a key that is not the certificate’s', () => {
    const store = new CertificateStore(ca, OPTIONS);
    expect(() => store.upload({ certificate: selfSigned.cert, privateKey: otherKey }, null)).toThrow(refusal('KEY_MISMATCH', /their public keys differ/));
    expect(store.size).toBe(0);
  });

  it('refuses an expired certificate, saying when it expired', async () => {
    const old = await ca.issue({ commonName: 'old.test', subjectAltNames: [{ type: 'dns', value: 'old.test' }], validityDays: 30, keyType: 'ec-p256' }, new Date('2020-01-01T00:00:00Z'));
    const store = new CertificateStore(ca, OPTIONS);
    expect(() => store.upload({ certificate: old.certificatePem, privateKey: old.privateKeyPem }, null)).toThrow(refusal('CERTIFICATE_EXPIRED', /^certificate expired on 2020-01-31T00:00:00\.000Z$/));
  });

  it('refuses garbage, a key in the certificate field, and encrypted or broken keys', async () => {
    const store = new CertificateStore(ca, OPTIONS);
    const keyFile = await dir.write('plain.key', selfSigned.key);
    const encrypted = (await openssl(['pkey', '-in', keyFile, '-aes256', '-passout', 'pass:secret'])).stdout;
    const cases: [string, string, string, RegExp][] = [
      ['not PEM at all', selfSigned.key, 'CERTIFICATE_INVALID', /^certificate holds no PEM certificate/],
      ['garbage', 'garbage', 'CERTIFICATE_INVALID', /^certificate holds no PEM certificate/],
      ['a truncated block', selfSigned.cert.slice(0, 200), 'CERTIFICATE_INVALID', /^certificate holds a PEM certificate without its -----END CERTIFICATE----- line/],
      ['a key after the certificate', selfSigned.cert + selfSigned.key, 'CERTIFICATE_INVALID', /^certificate holds text besides its PEM certificates$/],
      ['a corrupt body', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', 'CERTIFICATE_INVALID', /^certificate is not a valid X\.509 certificate/],
    ];
    for (const [name, certificate, code, message] of cases) {
      expect({ name, error: capture(() => store.upload({ certificate, privateKey: selfSigned.key }, null)) }).toEqual({ name, error: refusal(code, message) });
    }
    expect(() => store.upload({ certificate: selfSigned.cert, privateKey: 'garbage' }, null)).toThrow(refusal('PRIVATE_KEY_INVALID', /holds no PEM-encoded private key/));
    expect(() => store.upload({ certificate: selfSigned.cert, privateKey: encrypted }, null)).toThrow(refusal('PRIVATE_KEY_INVALID', /is encrypted/));
    const broken = selfSigned.key.replace(/\n[A-Za-z0-9+/]{10}/, '\nAAAAAAAAAA');
    expect(() => store.upload({ certificate: selfSigned.cert, privateKey: broken }, null)).toThrow(refusal('PRIVATE_KEY_INVALID', /is not a valid PEM private key/));
    expect(store.size).toBe(0);
  });

  it('takes a chain whose certificates issued each other, in either field, and refuses one that did not', async () => {
    const leaf = await ca.issue({ commonName: 'chained.test', subjectAltNames: [{ type: 'dns', value: 'chained.test' }], validityDays: 1, keyType: 'ec-p256' });
    const stranger = await InstanceCa.generate();
    const store = new CertificateStore(ca, OPTIONS);
    const separate = store.upload({ certificate: leaf.certificatePem, privateKey: leaf.privateKeyPem, chain: ca.certificatePem }, null);
    expect(separate.chain.map((c) => c.subject)).toEqual([ca.info.subject]);
    const fullchain = store.upload({ certificate: leaf.certificatePem + ca.certificatePem, privateKey: leaf.privateKeyPem }, null);
    expect(fullchain.chain.map((c) => c.fingerprint256)).toEqual([ca.info.fingerprint256]);
    expect(() => store.upload({ certificate: leaf.certificatePem, privateKey: leaf.privateKeyPem, chain: stranger.certificatePem }, null)).toThrow(
      refusal('CERTIFICATE_INVALID', /^chain certificate 1 \(CN=sockplane instance CA [0-9a-f]+, O=sockplane\) did not issue the certificate$/),
    );
  });

  it('refuses uploads when they are switched off, and PEM beyond the size limit', () => {
    const off = new CertificateStore(ca, { ...OPTIONS, allowUploads: false });
    expect(() => off.upload({ certificate: selfSigned.cert, privateKey: selfSigned.key }, null)).toThrow(refusal('UPLOADS_DISABLED', /switched off/));
    const small = new CertificateStore(ca, { ...OPTIONS, maxPemBytes: 512 });
    expect(() => small.upload({ certificate: selfSigned.cert, privateKey: selfSigned.key }, null)).toThrow(refusal('BODY_TOO_LARGE', /at most 512 are taken/));
  });

  it('generates certificates signed by the instance CA, which a TLS client trusting the CA accepts', async () => {
    const store = new CertificateStore(ca, OPTIONS);
    const record = await store.generate({ commonName: 'gen.example.test', subjectAltNames: ['gen.example.test', '*.gen.example.test', '127.0.0.1'], validityDays: 3, keyType: 'rsa-2048' }, 'key-a');
    expect(record).toMatchObject({ source: 'generated', keyAlgorithm: 'rsa-2048', info: { subject: 'CN=gen.example.test', issuer: ca.info.subject, isCa: false } });
    expect(record.info.subjectAltNames).toEqual(['DNS:gen.example.test', 'DNS:*.gen.example.test', 'IP:127.0.0.1']);
    expect(record.info.validTo.getTime() - Date.now()).toBeGreaterThan(2.9 * 86_400_000);
    const { server, port } = await sniServer((_name, callback) => callback(null, store.secureContext(record.id, 'key-a')), store.credentials(record.id, 'key-a'));
    try {
      const seen = await tlsProbe(port, ca.certificatePem, 'www.gen.example.test');
      expect({ authorized: seen.authorized, fingerprint: seen.certificate.fingerprint256 }).toEqual({ authorized: true, fingerprint: record.info.fingerprint256 });
    } finally {
      server.close();
    }
  });

  it('gives a generated certificate its common name as SAN when it is a host name, and none otherwise', async () => {
    const store = new CertificateStore(ca, OPTIONS);
    expect((await store.generate({ commonName: 'cn-only.test', validityDays: 1, keyType: 'ec-p256' }, null)).info.subjectAltNames).toEqual(['DNS:cn-only.test']);
    expect((await store.generate({ commonName: 'Alice Example', validityDays: 1, keyType: 'ec-p256' }, null)).info.subjectAltNames).toEqual([]);
    await expect(store.generate({ commonName: 'x', subjectAltNames: ['ok.test', 'not ok'], validityDays: 1, keyType: 'ec-p256' }, null)).rejects.toThrow(
      refusal('INVALID_SERVER_NAME', /^subjectAltNames\.1 "not ok" is neither/),
    );
  });

  it('holds at most maxCertificates, counting generations under way', async () => {
    const store = new CertificateStore(ca, { ...OPTIONS, maxCertificates: 2 });
    const request = { commonName: 'q.test', validityDays: 1, keyType: 'ec-p256' } as const;
    const results = await Promise.allSettled([store.generate(request, null), store.generate(request, null), store.generate(request, null)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect(() => store.upload({ certificate: selfSigned.cert, privateKey: selfSigned.key }, null)).toThrow(refusal('QUOTA_EXCEEDED', /holds 2 certificates, its limit/));
    store.remove(store.list(null, 10).items[0].id, null);
    expect(store.upload({ certificate: selfSigned.cert, privateKey: selfSigned.key }, null).source).toBe('upload');
  });

  it('shows each owner its own certificates only, pages through them, and forgets a removed one', async () => {
    const store = new CertificateStore(ca, OPTIONS);
    const mine = [await store.generate({ commonName: 'm1.test', validityDays: 1, keyType: 'ec-p256' }, 'me'), await store.generate({ commonName: 'm2.test', validityDays: 1, keyType: 'ec-p256' }, 'me')];
    const theirs = await store.generate({ commonName: 't.test', validityDays: 1, keyType: 'ec-p256' }, 'them');
    expect(() => store.get(theirs.id, 'me')).toThrow(refusal('CERTIFICATE_NOT_FOUND', /^no certificate with id ct_/));
    expect(() => store.credentials(theirs.id, 'me')).toThrow(refusal('CERTIFICATE_NOT_FOUND', /no certificate/));
    const first = store.list('me', 1);
    expect(first.items.map((r) => r.id)).toEqual([mine[0].id]);
    expect(store.list('me', 1, first.nextCursor ?? undefined)).toEqual({ items: [mine[1]], nextCursor: null });
    expect(store.list(null, 10).items).toHaveLength(3);
    expect(store.remove(mine[0].id, 'me')).toBe(mine[0]);
    expect(() => store.get(mine[0].id, null)).toThrow(refusal('CERTIFICATE_NOT_FOUND', /no certificate/));
  });
});

function capture(run: () => unknown): unknown {
  try {
    run();
  } catch (err) {
    return err;
  }
  return undefined;
}
