import { isIP } from 'node:net';
import { Duplex } from 'node:stream';
import { connect } from 'node:tls';
import { Transport } from '../transport';
import { TlsCredentials } from './leaf-minter';
import { TlsClientErrorCode, TlsError } from './tls-error';
import { StartOffsets, TlsSession } from './tls-session';

/** How a client connection speaks TLS. */
export interface TlsClientOptions {
  /** The name sent as SNI and checked against the certificate; null: the host asked for (no SNI for an IP literal). */
  servername: string | null;
  alpn: readonly string[];
  /** PEM bundle to trust; null: Node's bundled root CAs. */
  ca: string | null;
  rejectUnauthorized: boolean;
  /** A client certificate to present; null: none. */
  clientCredentials: TlsCredentials | null;
  /** A handshake not done by then fails. */
  handshakeTimeoutMs: number;
}

/** Node's (OpenSSL's) verification codes that say the chain is not trusted, as opposed to the name being wrong. */
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'CERT_CHAIN_TOO_LONG',
]);

/**
 * Starts TLS as the client over `stream` (a connected socket, or the plain side of a connection
 * upgrading with STARTTLS), `base` carrying the socket-only calls. `host` is the name asked
 * for: the certificate is checked against it (or `servername`), never the dialled address.
 */
export function beginTlsClient(stream: Duplex, base: Transport, host: string, options: TlsClientOptions, startOffsets: StartOffsets = { in: 0, out: 0 }): TlsSession {
  const servername = serverNameFor(host, options);
  const tlsSocket = connect({
    socket: stream,
    host: servername ?? host,
    servername: servername ?? undefined,
    ALPNProtocols: options.alpn.length > 0 ? [...options.alpn] : undefined,
    ca: options.ca ?? undefined,
    rejectUnauthorized: options.rejectUnauthorized,
    key: options.clientCredentials?.key,
    cert: options.clientCredentials?.cert,
  });
  return new TlsSession(tlsSocket, base, { peerVerifiedByHandshake: false, doneEvent: 'secureConnect', startOffsets, handshakeTimeoutMs: options.handshakeTimeoutMs });
}

/**
 * Waits for a client session's handshake and the check of the server's certificate. A refusal
 * destroys the connection and throws a TlsError naming the reason.
 */
export async function establishedClient(session: TlsSession, host: string, options: TlsClientOptions): Promise<TlsSession> {
  const outcome = await session.settled;
  if (outcome.established) return session;
  session.transport.reset();
  throw clientRefusal(outcome.error, outcome.reason, serverNameFor(host, options) ?? host);
}

/** SNI is a host name: an IP literal is checked against the certificate but not sent (RFC 6066). */
function serverNameFor(host: string, options: TlsClientOptions): string | null {
  return options.servername ?? (isIP(host) === 0 ? host : null);
}

export function clientRefusal(error: Error | undefined, reason: string, name: string): TlsError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? '';
  let kind: TlsClientErrorCode = 'TLS_HANDSHAKE_FAILED';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') kind = 'TLS_HOSTNAME_MISMATCH';
  else if (UNTRUSTED.has(code)) kind = 'TLS_CERT_UNTRUSTED';
  const detail =
    kind === 'TLS_HOSTNAME_MISMATCH'
      ? `the server's certificate is not for ${name}: ${reason}`
      : kind === 'TLS_CERT_UNTRUSTED'
        ? `the server's certificate is not trusted: ${reason}`
        : `the TLS handshake with ${name} failed: ${reason}`;
  return new TlsError(kind, detail, code === '' ? { reason } : { reason, verifyCode: code });
}
