import { AccessPolicy, Protocol } from '../sockets/destination';
import { AddressRule, PortRange, judgedAddress, parseAddressRule, ruleMatches } from './address-rule';

/** Where the rule that decided came from: a setting, or the built-in defaults. */
export type RuleSource = 'built-in' | 'SOCKPLANE_POLICY_ALLOW' | 'SOCKPLANE_POLICY_DENY' | 'SOCKPLANE_BIND_HOSTS' | 'SOCKPLANE_BIND_PORTS';

export type Verdict = { allowed: true } | { allowed: false; rule: string; ruleSource: RuleSource; reason: string };

export interface NetworkPolicyOptions {
  /** When not empty, destinations no rule allows are denied. */
  allow: readonly AddressRule[];
  deny: readonly AddressRule[];
  /** Local addresses a listener or UDP socket may bind; `localhost` is the name itself. */
  bindHosts: readonly (AddressRule | 'localhost')[];
  /** Ports a listener or UDP socket may bind; port 0 (the kernel's pick) is always allowed. */
  bindPorts: readonly PortRange[];
}

interface PolicyEntry {
  rule: AddressRule;
  effect: 'allow' | 'deny';
  source: RuleSource;
  reason: string;
  protocols: readonly Protocol[];
}

const BOTH: readonly Protocol[] = ['tcp', 'udp'];

/**
 * Denied unless a configured rule at least as specific allows them: addresses that reach the
 * host's own link (where cloud metadata services answer) or mean "this host" in disguise.
 * Multicast is denied for TCP only, where it can never work; UDP multicast is a feature.
 */
const BUILT_IN_DENIES: readonly Omit<PolicyEntry, 'effect' | 'source'>[] = [
  { rule: parseAddressRule('169.254.0.0/16'), reason: 'IPv4 link-local, where cloud metadata services (169.254.169.254) answer', protocols: BOTH },
  { rule: parseAddressRule('fe80::/10'), reason: 'IPv6 link-local', protocols: BOTH },
  { rule: parseAddressRule('fd00:ec2::254/128'), reason: 'the IPv6 cloud metadata service', protocols: BOTH },
  { rule: parseAddressRule('0.0.0.0/8'), reason: 'unspecified IPv4 ("this host")', protocols: BOTH },
  { rule: parseAddressRule('::/128'), reason: 'the unspecified IPv6 address', protocols: BOTH },
  { rule: parseAddressRule('224.0.0.0/4'), reason: 'IPv4 multicast cannot carry TCP', protocols: ['tcp'] },
  { rule: parseAddressRule('ff00::/8'), reason: 'IPv6 multicast cannot carry TCP', protocols: ['tcp'] },
];

/**
 * Decides which destinations outbound TCP connects and UDP sends may reach, and where sockets
 * may bind. The most specific matching rule decides (longest prefix, then a rule with ports
 * over one without, then configured over built-in, then deny over allow); when none matches,
 * the destination is allowed unless an allow list is configured. IPv4-mapped and NAT64 IPv6
 * addresses are judged as the IPv4 address they reach. Pure logic: no I/O, no Nest.
 */
export class NetworkPolicy implements AccessPolicy {
  private readonly entries: readonly PolicyEntry[];
  private readonly hasAllowList: boolean;

  constructor(private readonly options: NetworkPolicyOptions) {
    const configured: PolicyEntry[] = [
      ...options.deny.map((rule) => ({ rule, effect: 'deny' as const, source: 'SOCKPLANE_POLICY_DENY' as const, reason: 'a configured deny rule', protocols: BOTH })),
      ...options.allow.map((rule) => ({ rule, effect: 'allow' as const, source: 'SOCKPLANE_POLICY_ALLOW' as const, reason: 'a configured allow rule', protocols: BOTH })),
    ];
    const builtIn = BUILT_IN_DENIES.map((entry) => ({ ...entry, effect: 'deny' as const, source: 'built-in' as const }));
    this.entries = [...configured, ...builtIn].sort(bySpecificity);
    this.hasAllowList = options.allow.length > 0;
  }

  /** Whether a connect (TCP) or send (UDP) may reach this IP literal and port. */
  judgeDestination(address: string, port: number, protocol: Protocol): Verdict {
    const judged = judgedAddress(address);
    if (!judged) return { allowed: false, rule: address, ruleSource: 'built-in', reason: 'not an IP address' };
    const entry = this.entries.find((e) => e.protocols.includes(protocol) && ruleMatches(e.rule, judged, port));
    if (entry) return entry.effect === 'allow' ? { allowed: true } : { allowed: false, rule: entry.rule.text, ruleSource: entry.source, reason: entry.reason };
    if (this.hasAllowList) return { allowed: false, rule: 'SOCKPLANE_POLICY_ALLOW', ruleSource: 'SOCKPLANE_POLICY_ALLOW', reason: 'no allow rule covers it' };
    return { allowed: true };
  }

  /** Whether a listener or UDP socket may bind this local address (an IP literal or `localhost`) and port. */
  judgeBind(host: string, port: number): Verdict {
    if (port !== 0 && !this.options.bindPorts.some((range) => port >= range.from && port <= range.to)) {
      const ranges = this.options.bindPorts.map((r) => (r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`)).join(',') || 'none';
      return { allowed: false, rule: ranges, ruleSource: 'SOCKPLANE_BIND_PORTS', reason: `port ${port} is outside the ports sockets may bind (0 always picks a free one)` };
    }
    const judged = judgedAddress(host);
    const allowed = this.options.bindHosts.some((entry) => (entry === 'localhost' ? host === 'localhost' : judged !== null && ruleMatches(entry, judged, null)));
    if (allowed) return { allowed: true };
    const hosts = this.options.bindHosts.map((entry) => (entry === 'localhost' ? entry : entry.text)).join(',');
    return { allowed: false, rule: hosts, ruleSource: 'SOCKPLANE_BIND_HOSTS', reason: `${host} is not an address sockets may bind` };
  }
}

function bySpecificity(a: PolicyEntry, b: PolicyEntry): number {
  return (
    b.rule.prefixLength - a.rule.prefixLength ||
    Number(b.rule.ports !== null) - Number(a.rule.ports !== null) ||
    Number(a.source === 'built-in') - Number(b.source === 'built-in') ||
    Number(b.effect === 'deny') - Number(a.effect === 'deny')
  );
}
