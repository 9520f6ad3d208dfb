import { once } from 'node:events';
import { Server, connect } from 'node:tls';
import { TempDir, openssl, sniServer, tlsProbe } from '../../../test/support/tls';
import { InstanceCa } from './instance-ca';
import { DEFAULT_LEAF_NAMES, LeafMinter } from './leaf-minter';
import { TlsError } from './tls-error';

describe('LeafMinter', () => {
  let ca: InstanceCa;
  let dir: TempDir;
  let caFile: string;
  beforeAll(async () => {
    ca = await InstanceCa.generate();
    dir = await TempDir.create();
    caFile = await dir.write('ca.pem', ca.certificatePem);
  });
  afterAll(() => dir.remove());

  describe('behind a Node TLS server (SNICallback)', () => {
    let minter: LeafMinter;
    let server: Server;
    let port: number;
    beforeAll(async () => {
      minter = new LeafMinter(ca, { cacheSize: 100, validityDays: 7, keyType: 'ec-p256' });
      const defaults = await minter.mint(DEFAULT_LEAF_NAMES);
      ({ server, port } = await sniServer(minter.sniCallback, defaults.credentials));
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('presents a certificate for each name asked, which a client trusting only the instance CA verifies', async () => {
      for (const name of ['alpha.example.test', 'beta.example.test']) {
        const seen = await tlsProbe(port, ca.certificatePem, name);
        expect({ name, authorized: seen.authorized, san: seen.certificate.subjectaltname, cn: seen.certificate.subject.CN, received: seen.received }).toEqual({
          name,
          authorized: true,
          san: `DNS:${name}`,
          cn: name,
          received: 'hello',
        });
        expect(seen.certificate.issuer.CN).toBe(ca.info.subject.replace(/^CN=/, '').replace(/, O=sockplane$/, ''));
      }
    });

    it('answers a client that sends no SNI (it dialled an IP) with the default leaf, valid for that IP', async () => {
      const seen = await tlsProbe(port, ca.certificatePem);
      expect(seen.authorized).toBe(true);
      expect(seen.certificate.subjectaltname).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    });

    it('is verified by openssl s_client for two names, each with its own certificate', async () => {
      for (const name of ['one.example.test', 'two.example.test']) {
        const result = await openssl(['s_client', '-connect', `127.0.0.1:${port}`, '-servername', name, '-verify_hostname', name, '-CAfile', caFile, '-verify_return_error']);
        expect({ name, verify: result.stdout.match(/Verify return code: .*/)?.[0] }).toEqual({ name, verify: 'Verify return code: 0 (ok)' });
        expect(result.stdout).toContain(`subject=CN = ${name}`);
      }
    });

    it('fails the handshake for a name that is no host name, and keeps serving', async () => {
      const socket = connect({ host: '127.0.0.1', port, ca: ca.certificatePem, servername: 'bad name!' });
      const [err] = (await once(socket, 'error')) as [NodeJS.ErrnoException];
      socket.destroy();
      // Node drops the connection when SNICallback fails, without an alert.
      expect(err.code).toMatch(/^(ECONNRESET|ERR_SSL_\w+)$/);
      expect((await tlsProbe(port, ca.certificatePem, 'after.example.test')).authorized).toBe(true);
    });
  });

  it('mints once for concurrent asks for the same name', async () => {
    const minter = new LeafMinter(ca, { cacheSize: 10, validityDays: 1, keyType: 'ec-p256' });
    const leaves = await Promise.all(Array.from({ length: 20 }, () => minter.mint('same.example.test')));
    expect(new Set(leaves).size).toBe(1);
    expect(minter.stats).toEqual({ cached: 1, minted: 1, hits: 19 });
  });

  it('holds at most cacheSize names, evicting the least recently used', async () => {
    const minter = new LeafMinter(ca, { cacheSize: 2, validityDays: 1, keyType: 'ec-p256' });
    const a = await minter.mint('a.test');
    await minter.mint('b.test');
    expect(await minter.mint('a.test')).toBe(a);
    await minter.mint('c.test');
    expect(minter.stats).toEqual({ cached: 2, minted: 3, hits: 1 });
    expect(await minter.mint('a.test')).toBe(a);
    await minter.mint('b.test');
    expect(minter.stats).toEqual({ cached: 2, minted: 4, hits: 2 });
  });

  it('normalises names, so case and a trailing dot share one leaf', async () => {
    const minter = new LeafMinter(ca, { cacheSize: 10, validityDays: 1, keyType: 'ec-p256' });
    const leaf = await minter.mint('Mixed.Example.TEST.');
    expect(await minter.mint('mixed.example.test')).toBe(leaf);
    expect(leaf.info.subjectAltNames).toEqual(['DNS:mixed.example.test']);
  });

  it('gives an IP literal an iPAddress SAN', async () => {
    const minter = new LeafMinter(ca, { cacheSize: 10, validityDays: 1, keyType: 'ec-p256' });
    expect((await minter.mint('192.0.2.7')).info.subjectAltNames).toEqual(['IP:192.0.2.7']);
    expect((await minter.mint('2001:db8::7')).info.subjectAltNames).toEqual(['IP:2001:db8::7']);
  });

  it('refuses a name that is neither a DNS name nor an IP literal', async () => {
    const minter = new LeafMinter(ca, { cacheSize: 10, validityDays: 1, keyType: 'ec-p256' });
    for (const name of ['', 'bad name', '-lead.test', '127.1', 'a..b', 'fe80::1%eth0', `${'x'.repeat(64)}.test`]) {
      await expect(minter.mint(name)).rejects.toMatchObject({ constructor: TlsError, code: 'INVALID_SERVER_NAME' });
    }
    expect(minter.stats.cached).toBe(0);
  });
});
