import { AccessPolicy, Destinations, HostResolver, Verdict } from './destination';
import { SocketError } from './socket-error';

/** Denies one address; allows binds only on 127.0.0.1. */
const POLICY: AccessPolicy = {
  judgeDestination: (address): Verdict => (address === '10.0.0.66' ? { allowed: false, rule: '10.0.0.66/32', ruleSource: 'SOCKPLANE_POLICY_DENY', reason: 'a configured deny rule' } : { allowed: true }),
  judgeBind: (host): Verdict => (host === '127.0.0.1' ? { allowed: true } : { allowed: false, rule: '127.0.0.1', ruleSource: 'SOCKPLANE_BIND_HOSTS', reason: `${host} is not an address sockets may bind` }),
};

const NAMES: Record<string, string[]> = { 'both.test': ['::1', '127.0.0.1'], 'bad.test': ['127.0.0.1', '10.0.0.66'], 'empty.test': [] };
const resolver: HostResolver = async (host, family) => {
  const addresses = NAMES[host];
  if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return family === 0 ? addresses : addresses.filter((a) => a.includes(':') === (family === 6));
};

const refusal = (promise: Promise<unknown>): Promise<SocketError> => promise.then(() => Promise.reject(new Error('expected a refusal')), (err: SocketError) => err);

describe('Destinations', () => {
  const destinations = new Destinations(POLICY, resolver);

  it('takes IP literals as they are and names to their first address', async () => {
    expect(await destinations.forConnect('10.0.0.1', 80, 0)).toBe('10.0.0.1');
    expect(await destinations.forConnect('both.test', 80, 0)).toBe('::1');
    expect(await destinations.forConnect('both.test', 80, 4)).toBe('127.0.0.1');
    expect(await destinations.forDatagram('both.test', 53, 4)).toBe('127.0.0.1');
    expect(await destinations.forDatagram('::1', 53, 6)).toBe('::1');
  });

  it('vets every address a name stands for, and says which one was refused', async () => {
    expect(await refusal(destinations.forConnect('bad.test', 80, 0))).toMatchObject({
      code: 'POLICY_DENIED',
      message: 'connect to bad.test:80 (bad.test resolves to 10.0.0.66) is refused by the network policy: 10.0.0.66/32 (SOCKPLANE_POLICY_DENY: a configured deny rule)',
      details: { rule: '10.0.0.66/32', ruleSource: 'SOCKPLANE_POLICY_DENY' },
    });
    expect(await refusal(destinations.forDatagram('10.0.0.66', 53, 4))).toMatchObject({
      code: 'POLICY_DENIED',
      message: expect.stringMatching(/^send to 10\.0\.0\.66:53 is refused/),
    });
  });

  it('answers NAME_NOT_RESOLVED for a name with no address, none of the family, or a DNS failure', async () => {
    expect(await refusal(destinations.forConnect('empty.test', 80, 0))).toMatchObject({ code: 'NAME_NOT_RESOLVED', message: 'resolve empty.test failed: no addresses' });
    expect(await refusal(destinations.forConnect('nowhere.test', 80, 0))).toMatchObject({ code: 'NAME_NOT_RESOLVED', details: { errno: 'ENOTFOUND' } });
    const v4Only = new Destinations(POLICY, async () => ['127.0.0.1']);
    expect(await refusal(v4Only.forDatagram('v4.test', 53, 6))).toMatchObject({ code: 'NAME_NOT_RESOLVED', message: 'resolve v4.test failed: it has no IPv6 address' });
  });

  it('vets binds, naming the call', () => {
    expect(() => destinations.assertBindAllowed('127.0.0.1', 0, 'listen on')).not.toThrow();
    expect(() => destinations.assertBindAllowed('0.0.0.0', 8080, 'bind')).toThrow(
      expect.objectContaining({ code: 'POLICY_DENIED', message: 'bind 0.0.0.0:8080 is refused by the network policy: 127.0.0.1 (SOCKPLANE_BIND_HOSTS: 0.0.0.0 is not an address sockets may bind)' }),
    );
  });
});
