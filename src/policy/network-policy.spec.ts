import { judgedAddress, parseAddressRule, parsePortRanges } from './address-rule';
import { Protocol } from '../sockets/destination';
import { NetworkPolicy, NetworkPolicyOptions } from './network-policy';

function policy(options: Partial<Record<'allow' | 'deny' | 'bindHosts', string[]>> & { bindPorts?: string } = {}): NetworkPolicy {
  const resolved: NetworkPolicyOptions = {
    allow: (options.allow ?? []).map(parseAddressRule),
    deny: (options.deny ?? []).map(parseAddressRule),
    bindHosts: (options.bindHosts ?? ['127.0.0.0/8', '::1', 'localhost']).map((h) => (h === 'localhost' ? 'localhost' : parseAddressRule(h))),
    bindPorts: parsePortRanges(options.bindPorts ?? '1024-65535'),
  };
  return new NetworkPolicy(resolved);
}

describe('parseAddressRule', () => {
  it.each([
    ['10.0.0.0/8', { prefixLength: 8, ports: null }],
    ['192.168.1.7', { prefixLength: 32, ports: null }],
    ['127.0.0.1:8080', { prefixLength: 32, ports: { from: 8080, to: 8080 } }],
    ['::1/128:1024-65535', { prefixLength: 128, ports: { from: 1024, to: 65535 } }],
    ['[fd00::]:53', { prefixLength: 128, ports: { from: 53, to: 53 } }],
    ['[2001:db8::/32]:1-1023', { prefixLength: 32, ports: { from: 1, to: 1023 } }],
    ['::', { prefixLength: 128, ports: null }],
  ])('reads %s', (text, expected) => {
    expect(parseAddressRule(text)).toMatchObject({ text, ...expected });
  });

  it('keeps a rule inside ::ffff:0:0/96 as its IPv4 equivalent', () => {
    const rule = parseAddressRule('::ffff:10.0.0.0/104');
    expect({ network: rule.network.toString(), prefixLength: rule.prefixLength }).toEqual({ network: '10.0.0.0', prefixLength: 8 });
  });

  it.each([
    ['10.0.0.1/8', /did you mean 10.0.0.0\/8/],
    ['10.0.0.0/33', /prefix length between 0 and 32/],
    ['10.0.0.0/8:80:90', /bad port range/],
    ['example.com', /canonical form/],
    ['127.1', /canonical form/],
    ['10.0.0.0/8:70000', /bad port range/],
    ['10.0.0.0/8:9-1', /low to high/],
    ['[::1', /without closing/],
    ['fe80::1%eth0', /canonical form/],
  ])('refuses %s', (text, message) => {
    expect(() => parseAddressRule(text)).toThrow(message);
  });
});

describe('judgedAddress', () => {
  it.each([
    ['::ffff:169.254.169.254', '169.254.169.254'],
    ['::ffff:a9fe:a9fe', '169.254.169.254'],
    ['64:ff9b::a9fe:a9fe', '169.254.169.254'],
    ['fe80::1%eth0', 'fe80::1'],
    ['::1', '::1'],
  ])('judges %s as %s', (input, judged) => {
    expect(judgedAddress(input)?.toString()).toBe(judged);
  });

  it('is null for anything but an IP literal', () => {
    expect(judgedAddress('localhost')).toBeNull();
  });
});

describe('NetworkPolicy.judgeDestination', () => {
  const defaults = policy();
  it.each<[string, number, Protocol, boolean]>([
    ['127.0.0.1', 80, 'tcp', true],
    ['::1', 443, 'tcp', true],
    ['10.1.2.3', 22, 'tcp', true],
    ['192.168.0.1', 53, 'udp', true],
    ['169.254.169.254', 80, 'tcp', false],
    ['::ffff:169.254.169.254', 80, 'tcp', false],
    ['64:ff9b::a9fe:a9fe', 80, 'udp', false],
    ['fe80::1', 80, 'tcp', false],
    ['fe80::1%lo', 80, 'udp', false],
    ['fd00:ec2::254', 80, 'tcp', false],
    ['0.0.0.0', 80, 'tcp', false],
    ['0.1.2.3', 80, 'udp', false],
    ['::', 80, 'tcp', false],
    ['224.0.0.1', 80, 'tcp', false],
    ['239.255.0.1', 5353, 'udp', true],
    ['ff02::1', 80, 'tcp', false],
    ['ff02::1', 5353, 'udp', true],
  ])('by default, %s port %d over %s: allowed %s', (address, port, protocol, allowed) => {
    expect(defaults.judgeDestination(address, port, protocol).allowed).toBe(allowed);
  });

  it('names the rule that refused', () => {
    expect(defaults.judgeDestination('169.254.169.254', 80, 'tcp')).toEqual({
      allowed: false,
      rule: '169.254.0.0/16',
      ruleSource: 'built-in',
      reason: expect.stringContaining('metadata'),
    });
  });

  it('lets the most specific rule decide; a configured rule beats a built-in one of the same size', () => {
    const p = policy({ deny: ['10.0.0.0/8', '127.0.0.0/8:1-1023'], allow: ['10.1.0.0/16', '169.254.0.0/16', '0.0.0.0/0'] });
    expect(p.judgeDestination('10.2.0.1', 80, 'tcp')).toMatchObject({ allowed: false, rule: '10.0.0.0/8', ruleSource: 'SOCKPLANE_POLICY_DENY' });
    expect(p.judgeDestination('10.1.0.1', 80, 'tcp').allowed).toBe(true);
    expect(p.judgeDestination('169.254.169.254', 80, 'tcp').allowed).toBe(true);
    expect(p.judgeDestination('127.0.0.1', 22, 'tcp')).toMatchObject({ allowed: false, rule: '127.0.0.0/8:1-1023' });
    // The broad allow does not undo the narrower built-in denies.
    expect(p.judgeDestination('0.0.0.0', 80, 'tcp')).toMatchObject({ allowed: false, ruleSource: 'built-in' });
  });

  it('judges IPv4-mapped addresses by IPv4 rules, and mapped rules as IPv4 rules', () => {
    const p = policy({ deny: ['::ffff:10.0.0.0/104'] });
    expect(p.judgeDestination('10.9.9.9', 80, 'tcp').allowed).toBe(false);
    expect(p.judgeDestination('::ffff:10.9.9.9', 80, 'tcp').allowed).toBe(false);
  });

  it('with an allow list, denies what no allow rule covers', () => {
    const p = policy({ allow: ['127.0.0.1/32:1024-65535'] });
    expect(p.judgeDestination('127.0.0.1', 8080, 'tcp').allowed).toBe(true);
    expect(p.judgeDestination('127.0.0.1', 80, 'tcp')).toMatchObject({ allowed: false, rule: 'SOCKPLANE_POLICY_ALLOW' });
    expect(p.judgeDestination('::1', 8080, 'udp')).toMatchObject({ allowed: false, rule: 'SOCKPLANE_POLICY_ALLOW' });
  });
});

describe('NetworkPolicy.judgeBind', () => {
  const defaults = policy();
  it.each<[string, number, boolean]>([
    ['127.0.0.1', 0, true],
    ['127.0.0.2', 8080, true],
    ['::1', 65535, true],
    ['localhost', 2000, true],
    ['::ffff:127.0.0.1', 2000, true],
    ['127.0.0.1', 80, false],
    ['127.0.0.1', 1023, false],
    ['0.0.0.0', 0, false],
    ['::', 0, false],
    ['192.0.2.1', 0, false],
  ])('by default, %s port %d: allowed %s', (host, port, allowed) => {
    expect(defaults.judgeBind(host, port).allowed).toBe(allowed);
  });

  it('allows the wildcard and low ports once configured, and names the setting that refused', () => {
    const p = policy({ bindHosts: ['0.0.0.0', '::', 'localhost'], bindPorts: '80,8000-8999' });
    expect(p.judgeBind('0.0.0.0', 80).allowed).toBe(true);
    expect(p.judgeBind('::', 8500).allowed).toBe(true);
    expect(p.judgeBind('::', 9000)).toMatchObject({ allowed: false, rule: '80,8000-8999', ruleSource: 'SOCKPLANE_BIND_PORTS' });
    expect(p.judgeBind('127.0.0.1', 0)).toMatchObject({ allowed: false, rule: '0.0.0.0,::,localhost', ruleSource: 'SOCKPLANE_BIND_HOSTS' });
  });
});
