import { HostAllowlist, hostOf } from './host-allowlist';

describe('hostOf', () => {
  it.each([
    ['localhost', 'localhost'],
    ['LOCALHOST:3000', 'localhost'],
    ['[::1]:8080', '::1'],
    ['[::1]', '::1'],
    ['example.com.', 'example.com'],
    ['127.0.0.1:65535', '127.0.0.1'],
  ])('reads %s as %s', (header, host) => {
    expect(hostOf(header)).toBe(host);
  });

  it.each([undefined, '', 'a:b:c', '[::1', '[::1]x', 'host:port', ':80', '::1'])('refuses %j', (header) => {
    expect(hostOf(header)).toBeNull();
  });
});

describe('HostAllowlist', () => {
  it('allows the loopback names, the bound address and the configured names, on any port', () => {
    const hosts = new HostAllowlist('192.0.2.10', ['sockplane.internal']);
    for (const header of ['localhost:1', '127.0.0.1', '[::1]:3000', '192.0.2.10:3000', 'sockplane.internal']) expect(hosts.allows(header)).toBe(true);
    for (const header of ['evil.example', '127.0.0.2', 'sockplane.internal.evil.example', undefined]) expect(hosts.allows(header)).toBe(false);
  });

  it('allows a loopback bind address that is not one of the loopback names', () => {
    const hosts = new HostAllowlist('127.0.0.2', []);
    for (const header of ['127.0.0.2', '127.0.0.2:3000', 'localhost']) expect(hosts.allows(header)).toBe(true);
    expect(hosts.allows('127.0.0.3')).toBe(false);
  });

  it('answers the same when headers alternate, whatever it remembered last', () => {
    const hosts = new HostAllowlist('127.0.0.1', []);
    const verdicts = ['localhost:1', 'evil.example', 'localhost:1', 'localhost:1.evil', 'LOCALHOST:1', 'evil.example'].map((h) => hosts.allows(h));
    expect(verdicts).toEqual([true, false, true, false, true, false]);
  });

  it('does not take a wildcard bind address for a host name, and `*` allows anything', () => {
    expect(new HostAllowlist('0.0.0.0', []).allows('0.0.0.0')).toBe(false);
    expect(new HostAllowlist('::', ['*']).allows('anything.example')).toBe(true);
  });
});
