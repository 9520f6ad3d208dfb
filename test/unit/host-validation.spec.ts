import { isCanonicalHost } from '../../src/common/validation';

describe('isCanonicalHost', () => {
  it.each(['127.0.0.1', '::1', '2001:db8::1', 'localhost', 'example.com', 'a-b.example.org', 'xn--bcher-kva.example', 'host.example.'])(
    'accepts %s',
    (host) => expect(isCanonicalHost(host)).toBe(true),
  );

  // The OS resolver turns every one of these into an address; a policy must never see them.
  it.each(['127.1', '0x7f.0.0.1', '017700000001', '2130706433', '0x7f000001', '127.0.0.1.', '', ' 127.0.0.1', 'a..b', '-a.com', 'a_b.com', 'exa mple.com', 'a'.repeat(64) + '.com'])(
    'refuses %j',
    (host) => expect(isCanonicalHost(host)).toBe(false),
  );
});
