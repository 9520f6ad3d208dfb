import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { SocketError, fromSystemError } from './socket-error';

export type Protocol = 'tcp' | 'udp';

/** A policy's answer; a refusal names the rule that decided and where it came from. */
export type Verdict = { allowed: true } | { allowed: false; rule: string; ruleSource: string; reason: string };

/**
 * What the runtime asks of a network policy. The runtime only asks; the policy in use is
 * `policy/NetworkPolicy`, handed in by the wiring layer, so `sockets/` never imports it.
 */
export interface AccessPolicy {
  /** Whether a connect (TCP) or send (UDP) may reach this IP literal and port. */
  judgeDestination(address: string, port: number, protocol: Protocol): Verdict;
  /** Whether a listener or UDP socket may bind this local address and port. */
  judgeBind(host: string, port: number): Verdict;
}

/** Resolves a host name to every address it has (all families unless restricted). */
export type HostResolver = (host: string, family: 0 | 4 | 6) => Promise<string[]>;

export const systemResolver: HostResolver = async (host, family) => {
  const records = await lookup(host, { all: true, family, verbatim: true });
  return records.map((record) => record.address);
};

/**
 * Where sockets may go, for TCP connects and UDP sends alike: a host name is resolved once
 * (every address it has), every address is vetted by the policy, and the vetted address is
 * the one to dial, so nothing resolves the name a second time. Binds are vetted here too.
 */
export class Destinations {
  constructor(
    private readonly policy: AccessPolicy,
    private readonly resolve: HostResolver = systemResolver,
  ) {}

  /** Throws POLICY_DENIED unless sockets may bind `host:port`; `action` names the call in the message. */
  assertBindAllowed(host: string, port: number, action: 'listen on' | 'bind'): void {
    assertAllowed(this.policy.judgeBind(host, port), `${action} ${host}:${port}`);
  }

  /** The address a TCP connect dials: an IP literal as is, or the first address of the name (`family` 0: either). */
  async forConnect(host: string, port: number, family: 0 | 4 | 6): Promise<string> {
    const addresses = isIP(host) !== 0 ? [host] : await this.addressesOf(host, family);
    this.vet('tcp', 'connect to', host, addresses, port);
    return addresses[0];
  }

  /**
   * The address a datagram goes to: an IP literal as is (the caller checks its family), or the
   * first address of the name in `family`.
   */
  async forDatagram(host: string, port: number, family: 4 | 6): Promise<string> {
    if (isIP(host) !== 0) {
      this.vet('udp', 'send to', host, [host], port);
      return host;
    }
    const addresses = await this.addressesOf(host, family);
    this.vet('udp', 'send to', host, addresses, port);
    const address = addresses.find((candidate) => isIP(candidate) === family);
    if (!address) throw new SocketError('NAME_NOT_RESOLVED', `resolve ${host} failed: it has no IPv${family} address`, { errno: 'ENOTFOUND' });
    return address;
  }

  /** Every address of a host name (at least one), or NAME_NOT_RESOLVED. */
  private async addressesOf(host: string, family: 0 | 4 | 6): Promise<string[]> {
    let addresses: string[];
    try {
      addresses = await this.resolve(host, family);
    } catch (err) {
      throw fromSystemError(err, `resolve ${host}`);
    }
    if (addresses.length === 0) {
      throw new SocketError('NAME_NOT_RESOLVED', `resolve ${host} failed: no addresses`, { errno: 'ENOTFOUND' });
    }
    return addresses;
  }

  /** Every address a host stands for must be allowed. */
  private vet(protocol: Protocol, action: string, host: string, addresses: readonly string[], port: number): void {
    for (const address of addresses) {
      const via = address === host ? '' : ` (${host} resolves to ${address})`;
      assertAllowed(this.policy.judgeDestination(address, port, protocol), `${action} ${host}:${port}${via}`);
    }
  }
}

function assertAllowed(verdict: Verdict, what: string): void {
  if (verdict.allowed) return;
  const source = verdict.ruleSource === 'built-in' ? 'built-in rule' : verdict.ruleSource;
  throw new SocketError('POLICY_DENIED', `${what} is refused by the network policy: ${verdict.rule} (${source}: ${verdict.reason})`, {
    rule: verdict.rule,
    ruleSource: verdict.ruleSource,
  });
}
