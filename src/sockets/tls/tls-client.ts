import { Socket } from 'node:net';
import { isIP } from 'node:net';
import { connect } from 'node:tls';
import { TlsCredentials } from './leaf-minter';
import { TlsClientErrorCode, TlsError } from './tls-error';
import { TlsSession } from './tls-session';

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
 * Starts TLS as the client over a connected socket and resolves once the handshake succeeded
 * and the server's certificate was checked (unless `rejectUnauthorized` is off), within
 * `timeoutMs`. A refusal destroys the socket and throws a TlsError naming the reason.
 */
export async function startTlsClient(socket: Socket, host: string, options: TlsClientOptions, timeoutMs: number): Promise<TlsSession> {
  const servername = options.servername ?? (isIP(host) === 0 ? host : null);
  const tlsSocket = connect({
    socket,
    // The name checked against the certificate: the one asked for, never the dialled address.
    host: servername ?? host,
    servername: servername ?? undefined,
    ALPNProtocols: options.alpn.length > 0 ? [...options.alpn] : undefined,
    ca: options.ca ?? undefined,
    rejectUnauthorized: options.rejectUnauthorized,
    key: options.clientCredentials?.key,
    cert: options.clientCredentials?.cert,
  });
  const session = new TlsSession(tlsSocket, socket, false, 'secureConnect');
  const timer = setTimeout(() => tlsSocket.destroy(new Error(`no TLS handshake within ${timeoutMs} ms`)), timeoutMs);
  const outcome = await session.settled;
  clearTimeout(timer);
  if (outcome.established) return session;
  tlsSocket.destroy();
  socket.destroy();
  throw refusal(outcome.error, outcome.reason, servername ?? host);
}

function refusal(error: Error | undefined, reason: string, name: string): TlsError {
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
