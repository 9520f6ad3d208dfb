import { IncomingHttpHeaders } from 'node:http';
import { ApiProblem } from '../common/api-problem';

const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443' };

/**
 * The cross-origin check of a request that browsers send without asking first and that no
 * method rule exempts: a WebSocket upgrade is a GET, yet it reads and writes a socket. The same
 * rules as the protection on every `POST` and `DELETE` (`applyHttpSecurity`, Go's
 * `CrossOriginProtection`): `Sec-Fetch-Site: same-origin | none` passes, a request without
 * `Origin` is no browser's, an `Origin` naming the request's own host passes, and so does one of
 * `trustedOrigins` (SOCKPLANE_CORS_ORIGINS). Anything else is refused.
 */
export function crossOriginRefusal(headers: IncomingHttpHeaders, trustedOrigins: readonly string[]): ApiProblem | null {
  const site = headers['sec-fetch-site'];
  if (site === 'same-origin' || site === 'none') return null;
  const origin = headers.origin;
  if (origin === undefined) return site === undefined ? null : refusal(`a ${site} request`);
  if (site === undefined && headers.host !== undefined && originMatchesHost(origin, headers.host)) return null;
  if (trustedOrigins.includes(origin)) return null;
  return refusal(`a page at ${JSON.stringify(origin)}`);
}

function refusal(who: string): ApiProblem {
  return new ApiProblem('CROSS_ORIGIN_DENIED', `${who} may not attach to sockets here; list its origin in SOCKPLANE_CORS_ORIGINS to allow it`);
}

function originMatchesHost(origin: string, host: string): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.host === '') return false;
  const authority = host.toLowerCase();
  if (url.host === authority) return true;
  const port = DEFAULT_PORTS[url.protocol];
  return url.port === '' && port !== undefined && `${url.hostname}:${port}` === authority;
}
