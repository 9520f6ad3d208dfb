import ipaddr from 'ipaddr.js';
import { isIP } from 'node:net';

/** An inclusive port range; a rule without one covers every port. */
export interface PortRange {
  from: number;
  to: number;
}

/**
 * One CIDR rule with an optional port range, as an operator wrote it (`10.0.0.0/8`,
 * `::1/128:1024-65535`, `[fd00::]:53`, `127.0.0.1:8080`). Rules inside `::ffff:0:0/96` are
 * kept as their IPv4 equivalent, since addresses there are judged as IPv4.
 */
export interface AddressRule {
  /** The rule as written, for messages naming it. */
  readonly text: string;
  readonly network: ipaddr.IPv4 | ipaddr.IPv6;
  readonly prefixLength: number;
  readonly ports: PortRange | null;
}

export class RuleSyntaxError extends Error {
  override name = 'RuleSyntaxError';
}

const PORT = /^\d{1,5}$/;

/** Parses one rule; throws `RuleSyntaxError` saying what is wrong with it. */
export function parseAddressRule(input: string): AddressRule {
  const text = input.trim();
  const { address, bits, ports } = splitRule(text);
  const family = isIP(address);
  if (family === 0 || address.includes('%')) throw new RuleSyntaxError(`"${text}" does not start with an IP address in canonical form`);
  const maxBits = family === 4 ? 32 : 128;
  const prefixLength = bits === null ? maxBits : parsePrefixLength(bits, maxBits, text);
  const parsed = ipaddr.parse(address);
  const network = ipaddr.parse(networkAddress(parsed, prefixLength));
  if (network.toString() !== parsed.toString()) {
    throw new RuleSyntaxError(`"${text}" has bits set past its /${prefixLength} prefix; did you mean ${network.toString()}/${prefixLength}?`);
  }
  const range = ports === null ? null : parsePortRange(ports, text);
  if (network instanceof ipaddr.IPv6 && network.isIPv4MappedAddress() && prefixLength >= 96) {
    return { text, network: network.toIPv4Address(), prefixLength: prefixLength - 96, ports: range };
  }
  return { text, network, prefixLength, ports: range };
}

/** Parses a comma-separated list of port ranges (`1024-65535`, `80,443,8000-8999`). */
export function parsePortRanges(input: string): PortRange[] {
  return input
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => parsePortRange(part, part));
}

/** Whether the address (already reduced by `judgedAddress`) and port fall under the rule. */
export function ruleMatches(rule: AddressRule, address: ipaddr.IPv4 | ipaddr.IPv6, port: number | null): boolean {
  if (address.kind() !== rule.network.kind()) return false;
  if (rule.ports && (port === null || port < rule.ports.from || port > rule.ports.to)) return false;
  return address.match(rule.network, rule.prefixLength);
}

/** The NAT64 well-known prefix (RFC 6052): its addresses reach the IPv4 address in their last 32 bits. */
const NAT64 = ipaddr.parseCIDR('64:ff9b::/96');

/**
 * The address a rule is judged against: IPv4-mapped (`::ffff:a.b.c.d`) and NAT64
 * (`64:ff9b::a.b.c.d`) IPv6 addresses reach an IPv4 host, so they are judged as that IPv4
 * address; a zone index (`fe80::1%eth0`) is dropped. Null for anything that is not an IP literal.
 */
export function judgedAddress(input: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  if (isIP(input) === 0) return null;
  const address = ipaddr.parse(input.split('%')[0]);
  if (address instanceof ipaddr.IPv4) return address;
  if (address.isIPv4MappedAddress()) return address.toIPv4Address();
  if (address.match(NAT64)) return ipaddr.fromByteArray(address.toByteArray().slice(12));
  return address;
}

function splitRule(text: string): { address: string; bits: string | null; ports: string | null } {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) throw new RuleSyntaxError(`"${text}" opens [ without closing it`);
    const rest = text.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) throw new RuleSyntaxError(`"${text}" must be [address]:ports or [address/prefix]:ports`);
    const inner = text.slice(1, close);
    const slash = inner.indexOf('/');
    return {
      address: slash < 0 ? inner : inner.slice(0, slash),
      bits: slash < 0 ? null : inner.slice(slash + 1),
      ports: rest === '' ? null : rest.slice(1),
    };
  }
  const slash = text.indexOf('/');
  if (slash >= 0) {
    const after = text.slice(slash + 1);
    const colon = after.indexOf(':');
    return { address: text.slice(0, slash), bits: colon < 0 ? after : after.slice(0, colon), ports: colon < 0 ? null : after.slice(colon + 1) };
  }
  // Without a prefix, only IPv4 may carry a port (`127.0.0.1:8080`); IPv6 needs brackets or a prefix.
  const colon = text.lastIndexOf(':');
  if (colon >= 0 && text.indexOf(':') === colon && isIP(text.slice(0, colon)) === 4) {
    return { address: text.slice(0, colon), bits: null, ports: text.slice(colon + 1) };
  }
  return { address: text, bits: null, ports: null };
}

function parsePrefixLength(bits: string, maxBits: number, text: string): number {
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > maxBits) throw new RuleSyntaxError(`"${text}" needs a prefix length between 0 and ${maxBits}`);
  return Number(bits);
}

function parsePortRange(ports: string, text: string): PortRange {
  const [from, to = from, ...extra] = ports.split('-').map((part) => part.trim());
  if (extra.length > 0 || !PORT.test(from) || !PORT.test(to)) throw new RuleSyntaxError(`"${text}" has a bad port range "${ports}" (want 80 or 1024-65535)`);
  const range = { from: Number(from), to: Number(to) };
  if (range.from < 0 || range.to > 65535 || range.from > range.to) {
    throw new RuleSyntaxError(`"${text}" has a bad port range "${ports}" (ports 0-65535, low to high)`);
  }
  return range;
}

function networkAddress(address: ipaddr.IPv4 | ipaddr.IPv6, prefixLength: number): string {
  const bytes = address.toByteArray();
  for (let bit = prefixLength; bit < bytes.length * 8; bit++) bytes[bit >> 3] &= ~(0x80 >> (bit & 7));
  return ipaddr.fromByteArray(bytes).toString();
}
