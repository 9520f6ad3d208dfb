/** Names every local client may use, whatever the configuration. */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];

/**
 * Which `Host` headers the API answers. A web page can reach a service on localhost, and DNS
 * rebinding can make a hostile name resolve to it; checking the Host header refuses both,
 * since the browser sends the hostile name.
 */
export class HostAllowlist {
  private readonly names: ReadonlySet<string>;
  private readonly any: boolean;
  /** The last header allowed: clients repeat theirs on every request, so most checks stop here. */
  private lastAllowed: string | undefined;

  /**
   * `bindHost` (HOST) is allowed too, loopback addresses such as 127.0.0.2 included (clients
   * reach the service by that address), unless it is a wildcard that names no one host.
   */
  constructor(bindHost: string, allowedHosts: readonly string[]) {
    const names = new Set([...LOOPBACK_NAMES, ...allowedHosts]);
    if (bindHost !== '0.0.0.0' && bindHost !== '::') names.add(bindHost.toLowerCase().replace(/^\[(.*)\]$/, '$1'));
    this.any = names.has('*');
    this.names = names;
  }

  /** Whether a request with this `Host` header (any port) is answered. */
  allows(hostHeader: string | undefined): boolean {
    if (this.any || (hostHeader !== undefined && hostHeader === this.lastAllowed)) return true;
    const host = hostOf(hostHeader);
    if (host === null || !this.names.has(host)) return false;
    this.lastAllowed = hostHeader;
    return true;
  }
}

/** The host part of a Host header, lower case, without port or IPv6 brackets; null when malformed. */
export function hostOf(header: string | undefined): string | null {
  if (!header) return null;
  const value = header.trim().toLowerCase();
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    const rest = value.slice(close + 1);
    return close > 1 && (rest === '' || /^:\d{1,5}$/.test(rest)) ? value.slice(1, close) : null;
  }
  const [host, port, ...extra] = value.split(':');
  if (extra.length > 0 || host === '' || (port !== undefined && !/^\d{1,5}$/.test(port))) return null;
  return host.replace(/\.$/, '');
}
