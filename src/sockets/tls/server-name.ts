import { isIP } from 'node:net';
import { TlsError } from './tls-error';

/** A subjectAltName entry a certificate is made for: a DNS name or an IP address. */
export interface SubjectAltName {
  readonly type: 'dns' | 'ip';
  readonly value: string;
}

/** Letters, digits, hyphens, and underscores (which service names in container networks carry). */
const DNS_LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

/**
 * The SAN a certificate for `name` needs: an IP literal becomes an iPAddress entry (clients check
 * IPs against those, never against dNSName), anything else must be a DNS name, lower-cased and
 * without its trailing dot. `wildcard` admits a leading `*.` label, which SNI never carries.
 */
export function toSubjectAltName(name: string, options: { wildcard?: boolean; field?: string } = {}): SubjectAltName {
  const field = options.field ?? 'servername';
  // A zone (`fe80::1%eth0`) is local to one host: no certificate can name it.
  if (isIP(name) !== 0 && !name.includes('%')) return { type: 'ip', value: name };
  const dns = name.toLowerCase().replace(/\.$/, '');
  const labels = dns.split('.');
  const [first, ...rest] = labels;
  const wildcardOk = options.wildcard === true && first === '*' && rest.length >= 2;
  const valid =
    dns.length > 0 &&
    dns.length <= 253 &&
    (wildcardOk ? rest : labels).every((label) => DNS_LABEL.test(label)) &&
    // A last label of digits would be an IPv4 address in a form the resolver accepts but isIP refuses (127.1).
    !/^[0-9]+$/.test(labels[labels.length - 1]);
  if (!valid) {
    throw new TlsError('INVALID_SERVER_NAME', `${field} ${JSON.stringify(name.slice(0, 80))} is neither a DNS name nor an IP address`, { field });
  }
  return { type: 'dns', value: dns };
}
