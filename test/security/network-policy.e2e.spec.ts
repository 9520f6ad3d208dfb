import { once } from 'node:events';
import { AddressInfo, Server, createServer, isIP } from 'node:net';
import { HostResolver } from '../../src/sockets/destination';
import { UdpPeer } from '../support/peers';
import { TestApp, startTestApp } from '../support/test-app';

/** Where a case sends: the allowed canary, the canary whose port a rule denies, or a fixed port. */
type Target = 'canary' | 'denied-canary' | number;

interface Case {
  host: string;
  target: Target;
  /** 'allowed', 'invalid' (400: refused by validation), or the rule that must refuse it. */
  expect: 'allowed' | 'invalid' | { rule: string };
}

/** Names the test resolver knows, standing in for DNS (including a rebinding-style mixed answer). */
const NAMES: Record<string, string[]> = {
  'metadata.test': ['169.254.169.254'],
  'public-and-loopback.test': ['203.0.113.5', '127.0.0.1'],
  'loopback-then-metadata.test': ['127.0.0.1', '169.254.169.254'],
  'loopback-then-link-local6.test': ['::1', 'fe80::1'],
  'private.test': ['10.1.2.3'],
  'mapped-metadata.test': ['::ffff:169.254.169.254'],
  'unspecified.test': ['0.0.0.0'],
  'denied-port.test': ['127.0.0.1'],
  'loopback.test': ['127.0.0.1'],
  'dual.test': ['127.0.0.1', '::1'],
  'loopback6.test': ['::1'],
  localhost: ['127.0.0.1'],
};

const hostResolver: HostResolver = async (host) => {
  const addresses = NAMES[host];
  if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return addresses;
};

const CASES: Case[] = [
  // Built-in denies: link-local and metadata, in every spelling that reaches them.
  { host: '169.254.169.254', target: 80, expect: { rule: '169.254.0.0/16' } },
  { host: '169.254.169.254', target: 'canary', expect: { rule: '169.254.0.0/16' } },
  { host: '169.254.0.1', target: 'canary', expect: { rule: '169.254.0.0/16' } },
  { host: '::ffff:169.254.169.254', target: 'canary', expect: { rule: '169.254.0.0/16' } },
  { host: '::ffff:a9fe:a9fe', target: 'canary', expect: { rule: '169.254.0.0/16' } },
  { host: '64:ff9b::a9fe:a9fe', target: 'canary', expect: { rule: '169.254.0.0/16' } },
  { host: 'fe80::1', target: 'canary', expect: { rule: 'fe80::/10' } },
  { host: 'fe80::1%lo', target: 'canary', expect: { rule: 'fe80::/10' } },
  { host: 'febf:ffff::1', target: 'canary', expect: { rule: 'fe80::/10' } },
  { host: 'fd00:ec2::254', target: 80, expect: { rule: 'fd00:ec2::254/128' } },
  // Built-in denies: the unspecified addresses, which Linux quietly turns into "this host".
  { host: '0.0.0.0', target: 'canary', expect: { rule: '0.0.0.0/8' } },
  { host: '0.1.2.3', target: 'canary', expect: { rule: '0.0.0.0/8' } },
  { host: '::', target: 'canary', expect: { rule: '::/128' } },
  { host: '::ffff:0.0.0.0', target: 'canary', expect: { rule: '0.0.0.0/8' } },
  // Configured denies, IPv4, IPv6 and mapped.
  { host: '10.0.0.1', target: 'canary', expect: { rule: '10.0.0.0/8' } },
  { host: '10.255.255.255', target: 'canary', expect: { rule: '10.0.0.0/8' } },
  { host: '192.168.1.1', target: 'canary', expect: { rule: '192.168.0.0/16' } },
  { host: '::ffff:192.168.1.1', target: 'canary', expect: { rule: '192.168.0.0/16' } },
  { host: '203.0.113.7', target: 'canary', expect: { rule: '203.0.113.0/24' } },
  { host: '2001:db8::1', target: 'canary', expect: { rule: '2001:db8::/32' } },
  { host: '127.66.1.1', target: 'canary', expect: { rule: '127.66.0.0/16' } },
  // A port rule: the denied canary's port on loopback.
  { host: '127.0.0.1', target: 'denied-canary', expect: { rule: 'denied-port' } },
  { host: '::ffff:127.0.0.1', target: 'denied-canary', expect: { rule: 'denied-port' } },
  // Host names: refused when any address is denied, whichever comes first.
  { host: 'metadata.test', target: 'canary', expect: { rule: '169.254.0.0/16' } },
  { host: 'public-and-loopback.test', target: 'canary', expect: { rule: '203.0.113.0/24' } },
  { host: 'loopback-then-metadata.test', target: 'canary', expect: { rule: '169.254.0.0/16' } },
  { host: 'loopback-then-link-local6.test', target: 'canary', expect: { rule: 'fe80::/10' } },
  { host: 'private.test', target: 'canary', expect: { rule: '10.0.0.0/8' } },
  { host: 'mapped-metadata.test', target: 'canary', expect: { rule: '169.254.0.0/16' } },
  { host: 'unspecified.test', target: 'canary', expect: { rule: '0.0.0.0/8' } },
  { host: 'denied-port.test', target: 'denied-canary', expect: { rule: 'denied-port' } },
  // Numeric, octal, hex and other non-canonical forms never get as far as the policy.
  { host: '127.1', target: 'canary', expect: 'invalid' },
  { host: '0x7f.0.0.1', target: 'canary', expect: 'invalid' },
  { host: '0177.0.0.1', target: 'canary', expect: 'invalid' },
  { host: '2130706433', target: 'canary', expect: 'invalid' },
  { host: '017700000001', target: 'canary', expect: 'invalid' },
  { host: '0x7f000001', target: 'canary', expect: 'invalid' },
  { host: '0xa9fea9fe', target: 'canary', expect: 'invalid' },
  { host: '169.254.43518', target: 'canary', expect: 'invalid' },
  { host: '127.0.0.1.', target: 'canary', expect: 'invalid' },
  { host: '[::1]', target: 'canary', expect: 'invalid' },
  { host: '169.254.169.254:80', target: 'canary', expect: 'invalid' },
  { host: 'http://127.0.0.1', target: 'canary', expect: 'invalid' },
  { host: '', target: 'canary', expect: 'invalid' },
  // Allowed: loopback in its forms, by address and by name.
  { host: '127.0.0.1', target: 'canary', expect: 'allowed' },
  { host: '::ffff:127.0.0.1', target: 'canary', expect: 'allowed' },
  { host: 'loopback.test', target: 'canary', expect: 'allowed' },
  { host: 'dual.test', target: 'canary', expect: 'allowed' },
  { host: 'localhost', target: 'canary', expect: 'allowed' },
  { host: '::1', target: 'canary', expect: 'allowed' },
  { host: 'loopback6.test', target: 'canary', expect: 'allowed' },
];

/**
 * How a case travels: an IPv6 destination needs a udp6 sender, and an IPv4-mapped one a udp6
 * sender bound to a mapped address; mapped destinations arrive at the IPv4 canary.
 */
function route(host: string): { sender: 'udp4' | 'udp6' | 'mapped'; canary6: boolean } {
  const address = isIP(host) ? host : (NAMES[host]?.[0] ?? host);
  if (isIP(address) !== 6) return { sender: 'udp4', canary6: false };
  return address.startsWith('::ffff:') ? { sender: 'mapped', canary6: false } : { sender: 'udp6', canary6: true };
}
const label = (c: Case): string => `${c.host || '(empty)'} → ${typeof c.expect === 'string' ? c.expect : `denied by ${c.expect.rule}`}`;

/** A TCP server on loopback that counts what it accepts and closes it. */
async function canaryServer(host: string): Promise<{ server: Server; port: number; accepts: () => number }> {
  let accepts = 0;
  const server = createServer((socket) => {
    accepts++;
    socket.destroy();
  });
  server.listen(0, host);
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port, accepts: () => accepts };
}

describe('network policy (a table of destinations, TCP connects and UDP sends)', () => {
  let t: TestApp;
  const tcp = { v4: null as unknown as Awaited<ReturnType<typeof canaryServer>>, v6: null as unknown as Awaited<ReturnType<typeof canaryServer>> };
  let deniedTcp: Awaited<ReturnType<typeof canaryServer>>;
  let udp4: UdpPeer;
  let udp6: UdpPeer;
  let deniedUdp: UdpPeer;

  beforeAll(async () => {
    [tcp.v4, tcp.v6, deniedTcp] = await Promise.all([canaryServer('127.0.0.1'), canaryServer('::1'), canaryServer('127.0.0.1')]);
    [udp4, udp6, deniedUdp] = await Promise.all([UdpPeer.bind('127.0.0.1'), UdpPeer.bind('::1'), UdpPeer.bind('127.0.0.1')]);
    const deny = [
      '10.0.0.0/8',
      '192.168.0.0/16',
      '203.0.113.0/24',
      '2001:db8::/32',
      '127.66.0.0/16',
      `127.0.0.1/32:${deniedTcp.port}`,
      `127.0.0.1:${deniedUdp.port}`,
    ];
    t = await startTestApp({ SOCKPLANE_POLICY_DENY: deny.join(',') }, { hostResolver });
  });

  afterAll(async () => {
    await t.close();
    for (const canary of [tcp.v4, tcp.v6, deniedTcp]) canary.server.close();
    await Promise.all([udp4.close(), udp6.close(), deniedUdp.close()]);
  });

  function expectedRule(c: Case, protocol: 'tcp' | 'udp'): string | null {
    if (typeof c.expect === 'string') return null;
    if (c.expect.rule !== 'denied-port') return c.expect.rule;
    return protocol === 'tcp' ? `127.0.0.1/32:${deniedTcp.port}` : `127.0.0.1:${deniedUdp.port}`;
  }

  describe('POST /v1/tcp/connections', () => {
    const allowed = CASES.filter((c) => c.expect === 'allowed');

    it.each(CASES.map((c) => [label(c), c] as const))('%s', async (_, c) => {
      const port = c.target === 'canary' ? (route(c.host).canary6 ? tcp.v6 : tcp.v4).port : c.target === 'denied-canary' ? deniedTcp.port : c.target;
      const res = await t.http.post('/v1/tcp/connections').send({ host: c.host, port, connectTimeoutMs: 2000 });
      if (c.expect === 'invalid') {
        expect({ status: res.status, code: res.body.code }).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
      } else if (c.expect === 'allowed') {
        expect({ status: res.status, body: res.body }).toMatchObject({ status: 201, body: { state: 'open' } });
        await t.http.delete(`/v1/tcp/connections/${res.body.id}`).expect(200);
      } else {
        expect({ status: res.status, code: res.body.code, rule: res.body.rule }).toEqual({ status: 403, code: 'POLICY_DENIED', rule: expectedRule(c, 'tcp') });
        expect(res.body.detail).toContain('refused by the network policy');
      }
    });

    it('let through exactly the allowed cases: the canaries counted them, and the denied canary nothing', () => {
      const v6Allowed = allowed.filter((c) => route(c.host).canary6).length;
      expect({ v4: tcp.v4.accepts(), v6: tcp.v6.accepts(), denied: deniedTcp.accepts() }).toEqual({
        v4: allowed.length - v6Allowed,
        v6: v6Allowed,
        denied: 0,
      });
    });
  });

  describe('POST /v1/udp/sockets/{id}/send', () => {
    const senders = { udp4: '', udp6: '', mapped: '' };
    beforeAll(async () => {
      senders.udp4 = (await t.http.post('/v1/udp/sockets').send({ type: 'udp4' }).expect(201)).body.id;
      senders.udp6 = (await t.http.post('/v1/udp/sockets').send({ type: 'udp6', host: '::1' }).expect(201)).body.id;
      senders.mapped = (await t.http.post('/v1/udp/sockets').send({ type: 'udp6', host: '::ffff:127.0.0.1' }).expect(201)).body.id;
    });

    const sent = { v4: 0, v6: 0 };

    it.each(CASES.map((c) => [label(c), c] as const))('%s', async (_, c) => {
      const { sender, canary6 } = route(c.host);
      const target = canary6 ? udp6 : udp4;
      const port = c.target === 'canary' ? target.port : c.target === 'denied-canary' ? deniedUdp.port : c.target;
      const res = await t.http.post(`/v1/udp/sockets/${senders[sender]}/send`).send({ host: c.host, port, data: c.host });
      if (c.expect === 'invalid') {
        expect({ status: res.status, code: res.body.code }).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
      } else if (c.expect === 'allowed') {
        expect({ status: res.status, body: res.body }).toMatchObject({ status: 200, body: { bytesSent: Buffer.byteLength(c.host) } });
        if (target === udp6) sent.v6++;
        else sent.v4++;
      } else {
        expect({ status: res.status, code: res.body.code, rule: res.body.rule }).toEqual({ status: 403, code: 'POLICY_DENIED', rule: expectedRule(c, 'udp') });
      }
    });

    it('delivered exactly the allowed datagrams, and none to the denied canary', async () => {
      await udp4.receive(sent.v4);
      await udp6.receive(sent.v6);
      expect({ v4: udp4.received.length, v6: udp6.received.length, denied: deniedUdp.received.length }).toEqual({ ...sent, denied: 0 });
    });

    it('vets the default peer of a connected UDP socket too', async () => {
      const res = await t.http.post('/v1/udp/sockets').send({ connectTo: { host: 'metadata.test', port: 80 } });
      expect({ status: res.status, code: res.body.code, rule: res.body.rule }).toEqual({ status: 403, code: 'POLICY_DENIED', rule: '169.254.0.0/16' });
    });
  });
});

describe('network policy with an allow list', () => {
  let t: TestApp;
  let canary: Awaited<ReturnType<typeof canaryServer>>;
  let other: Awaited<ReturnType<typeof canaryServer>>;

  beforeAll(async () => {
    [canary, other] = await Promise.all([canaryServer('127.0.0.1'), canaryServer('::1')]);
    t = await startTestApp({ SOCKPLANE_POLICY_ALLOW: `127.0.0.1/32:${canary.port}` }, { hostResolver });
  });

  afterAll(async () => {
    await t.close();
    canary.server.close();
    other.server.close();
  });

  it('allows only what a rule covers and names the allow list for the rest; built-in denies still name themselves', async () => {
    const connect = (host: string, port: number): Promise<{ status: number; body: { id: string; code: string; rule: string } }> =>
      t.http.post('/v1/tcp/connections').send({ host, port }).then((r) => ({ status: r.status, body: r.body }));
    const ok = await connect('127.0.0.1', canary.port);
    expect(ok.status).toBe(201);
    await t.http.delete(`/v1/tcp/connections/${ok.body.id}`).expect(200);
    expect(await connect('::1', other.port)).toMatchObject({ status: 403, body: { code: 'POLICY_DENIED', rule: 'SOCKPLANE_POLICY_ALLOW' } });
    expect(await connect('127.0.0.1', other.port)).toMatchObject({ status: 403, body: { rule: 'SOCKPLANE_POLICY_ALLOW' } });
    expect(await connect('169.254.169.254', canary.port)).toMatchObject({ status: 403, body: { rule: '169.254.0.0/16' } });
    expect(await connect('dual.test', canary.port)).toMatchObject({ status: 403, body: { rule: 'SOCKPLANE_POLICY_ALLOW' } });
    expect({ canary: canary.accepts(), other: other.accepts() }).toEqual({ canary: 1, other: 0 });
  });
});

describe('bind policy', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it.each([
    ['a TCP listener', '/v1/tcp/listeners'],
    ['a UDP socket', '/v1/udp/sockets'],
  ])('%s binds loopback on a free port, and not the wildcard, a foreign address or a privileged port', async (_, path) => {
    const ok = await t.http.post(path).send({ host: '127.0.0.1', port: 0 }).expect(201);
    await t.http.delete(`${path}/${ok.body.id}`).expect(200);
    for (const [body, setting] of [
      [{ host: '0.0.0.0', port: 0 }, 'SOCKPLANE_BIND_HOSTS'],
      [{ host: '192.0.2.1', port: 0 }, 'SOCKPLANE_BIND_HOSTS'],
      [{ host: '127.0.0.1', port: 80 }, 'SOCKPLANE_BIND_PORTS'],
      [{ host: '127.0.0.1', port: 1023 }, 'SOCKPLANE_BIND_PORTS'],
    ] as const) {
      const res = await t.http.post(path).send(body);
      expect({ body, status: res.status, code: res.body.code, ruleSource: res.body.ruleSource }).toEqual({ body, status: 403, code: 'POLICY_DENIED', ruleSource: setting });
    }
  });

  it('allows the wildcard once configured', async () => {
    const wide = await startTestApp({ SOCKPLANE_BIND_HOSTS: '127.0.0.1,::' });
    try {
      const res = await wide.http.post('/v1/tcp/listeners').send({ host: '::', port: 0 }).expect(201);
      expect(res.body.local.address).toBe('::');
      await wide.http.post('/v1/udp/sockets').send({ type: 'udp6', host: '::1' }).expect(403);
    } finally {
      await wide.close();
    }
  });
});
