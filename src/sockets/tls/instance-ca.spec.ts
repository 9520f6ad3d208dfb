import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { inspect } from 'node:util';
import { TempDir, openssl, opensslSelfSigned } from '../../../test/support/tls';
import { InstanceCa } from './instance-ca';
import { CaLoadError } from './tls-error';

describe('InstanceCa', () => {
  let dir: TempDir;
  beforeAll(async () => {
    dir = await TempDir.create();
  });
  afterAll(() => dir.remove());

  it('generates a CA in memory whose certificate is public and whose key is not reachable', async () => {
    const ca = await InstanceCa.generate();
    const cert = new X509Certificate(ca.certificatePem);
    expect(cert.ca).toBe(true);
    expect(ca.info).toMatchObject({ isCa: true, fingerprint256: cert.fingerprint256, subject: expect.stringMatching(/^CN=sockplane instance CA [0-9a-f]{8}, O=sockplane$/) });
    expect(ca.info.issuer).toBe(ca.info.subject);
    expect(JSON.stringify(ca)).not.toContain('PRIVATE KEY');
    expect(inspect(ca, { depth: 5, showHidden: true })).not.toMatch(/PRIVATE KEY|CryptoKey/);
  });

  it('signs leaves that openssl verifies against it, with the SAN types asked for', async () => {
    const ca = await InstanceCa.generate();
    const leaf = await ca.issue({
      commonName: 'api.example.test',
      subjectAltNames: [
        { type: 'dns', value: 'api.example.test' },
        { type: 'ip', value: '127.0.0.1' },
        { type: 'ip', value: '::1' },
      ],
      validityDays: 7,
      keyType: 'ec-p256',
    });
    expect(leaf.info.subjectAltNames).toEqual(['DNS:api.example.test', 'IP:127.0.0.1', 'IP:::1']);
    expect(new X509Certificate(leaf.certificatePem).checkPrivateKey(createPrivateKey(leaf.privateKeyPem))).toBe(true);
    const caFile = await dir.write('generated-ca.pem', ca.certificatePem);
    const leafFile = await dir.write('leaf.pem', leaf.certificatePem);
    const verified = await openssl(['verify', '-CAfile', caFile, '-purpose', 'sslserver', leafFile]);
    expect(verified.stdout.trim()).toBe(`${leafFile}: OK`);
  });

  it('makes RSA 2048 leaves when asked', async () => {
    const ca = await InstanceCa.generate();
    const leaf = await ca.issue({ commonName: 'rsa.test', subjectAltNames: [{ type: 'dns', value: 'rsa.test' }], validityDays: 1, keyType: 'rsa-2048' });
    expect(createPrivateKey(leaf.privateKeyPem).asymmetricKeyDetails?.modulusLength).toBe(2048);
  });

  it('ends a leaf’s validity with the CA’s at the latest', async () => {
    const ca = await InstanceCa.generate({ validityDays: 2 });
    const leaf = await ca.issue({ commonName: 'long.test', subjectAltNames: [{ type: 'dns', value: 'long.test' }], validityDays: 365, keyType: 'ec-p256' });
    expect(leaf.info.validTo.getTime()).toBeLessThanOrEqual(ca.info.validTo.getTime());
  });

  it('loads a CA made by `openssl req -x509` and signs leaves that chain to it', async () => {
    const { certFile, keyFile } = await opensslSelfSigned(dir, 'openssl-ca', ['-days', '30']);
    const ca = await InstanceCa.fromFiles(certFile, keyFile);
    expect(ca.info.subject).toBe('CN=openssl-ca');
    expect(ca.certificatePem).toContain('BEGIN CERTIFICATE');
    const leaf = await ca.issue({ commonName: 'from-files.test', subjectAltNames: [{ type: 'dns', value: 'from-files.test' }], validityDays: 1, keyType: 'ec-p256' });
    const leafFile = await dir.write('from-files.pem', leaf.certificatePem);
    const verified = await openssl(['verify', '-CAfile', certFile, leafFile]);
    expect(verified.stdout.trim()).toBe(`${leafFile}: OK`);
  });

  it('refuses a key that is not the certificate’s', async () => {
    const { certFile } = await opensslSelfSigned(dir, 'ca-one');
    const { keyFile } = await opensslSelfSigned(dir, 'ca-two');
    await expect(InstanceCa.fromFiles(certFile, keyFile)).rejects.toThrow(new CaLoadError('the CA key does not belong to the CA certificate: their public keys differ'));
  });

  it('refuses a certificate that is not a CA', async () => {
    const { certFile, keyFile } = await opensslSelfSigned(dir, 'not-a-ca', ['-addext', 'basicConstraints=critical,CA:FALSE']);
    await expect(InstanceCa.fromFiles(certFile, keyFile)).rejects.toThrow(/is not a CA: its basicConstraints do not say CA:TRUE/);
  });

  it('refuses an expired CA, garbage, and a file it cannot read, naming the problem', async () => {
    const { certFile, keyFile } = await opensslSelfSigned(dir, 'short-ca', ['-days', '1']);
    const [cert, key] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
    await expect(InstanceCa.load(cert, key, new Date(Date.now() + 3 * 86_400_000))).rejects.toThrow(/^the CA certificate expired on \d{4}-/);
    await expect(InstanceCa.load(cert, key, new Date('2020-01-01'))).rejects.toThrow(/^the CA certificate is not valid before \d{4}-/);
    await expect(InstanceCa.load('not a certificate', key)).rejects.toThrow(/^the CA certificate is not a PEM X\.509 certificate/);
    await expect(InstanceCa.load(cert, 'garbage')).rejects.toThrow(/^the CA key is not an unencrypted PEM private key/);
    await expect(InstanceCa.fromFiles(`${dir.path}/missing.crt`, keyFile)).rejects.toThrow(/^cannot read the CA certificate file .*missing\.crt/);
  });
});
