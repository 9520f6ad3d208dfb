import { SocketErrorCode } from '../sockets/socket-error';
import { TlsErrorCode } from '../sockets/tls/tls-error';

export interface CatalogEntry {
  status: number;
  title: string;
  /** Sent as `Retry-After` (seconds): the condition is expected to pass by itself. */
  retryAfterSeconds?: number;
}

/**
 * Every machine `code` the API answers with, its HTTP status and title. The error table of
 * docs/errors.md is checked against this catalog by a test; add a row to both.
 */
export const ERROR_CATALOG = {
  VALIDATION_FAILED: { status: 400, title: 'The request is not valid' },
  MALFORMED_REQUEST: { status: 400, title: 'The request body could not be parsed' },
  INVALID_PAYLOAD: { status: 400, title: 'The payload does not decode in the given encoding' },
  INVALID_CURSOR: { status: 400, title: 'The cursor is not one this service returned' },
  INVALID_DESTINATION: { status: 400, title: 'The destination does not suit this socket' },
  ADDRESS_NOT_AVAILABLE: { status: 400, title: 'The address is not available on this host' },
  CERTIFICATE_INVALID: { status: 400, title: 'The certificate or its chain is not valid or not usable' },
  PRIVATE_KEY_INVALID: { status: 400, title: 'The private key is not an unencrypted PEM key' },
  KEY_MISMATCH: { status: 400, title: 'The private key does not belong to the certificate' },
  CERTIFICATE_EXPIRED: { status: 400, title: 'The certificate has expired' },
  INVALID_SERVER_NAME: { status: 400, title: 'The name is neither a DNS name nor an IP address' },
  UNAUTHORIZED: { status: 401, title: 'A valid API key is needed' },
  TICKET_INVALID: { status: 401, title: 'The attach ticket is unknown, used, expired or for another socket' },
  PERMISSION_DENIED: { status: 403, title: 'The operating system refused the operation' },
  POLICY_DENIED: { status: 403, title: 'The network policy refuses this address or port' },
  CROSS_ORIGIN_DENIED: { status: 403, title: 'A cross-origin request from a browser was refused' },
  UPLOADS_DISABLED: { status: 403, title: 'Certificate uploads are switched off on this service' },
  SOCKET_NOT_FOUND: { status: 404, title: 'No such socket' },
  ROUTE_NOT_FOUND: { status: 404, title: 'No such route' },
  CERTIFICATE_NOT_FOUND: { status: 404, title: 'No such certificate' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'The path does not take this method' },
  NOT_ACCEPTABLE: { status: 406, title: 'None of the accepted media types can be produced' },
  REQUEST_TIMEOUT: { status: 408, title: 'The request did not arrive in time' },
  SOCKET_CLOSED: { status: 409, title: 'The socket is closed for this operation' },
  ADDRESS_IN_USE: { status: 409, title: 'The address is already in use' },
  TLS_UPGRADE_REFUSED: { status: 409, title: 'The connection cannot start TLS now' },
  NO_FRAMING: { status: 409, title: 'The connection has no framing for this operation' },
  WRITER_ATTACHED: { status: 409, title: 'Another attachment holds the socket’s write lock' },
  OFFSET_RELEASED: { status: 410, title: 'Those bytes were released' },
  BODY_TOO_LARGE: { status: 413, title: 'The request body is too large' },
  DATAGRAM_TOO_LARGE: { status: 413, title: 'The datagram is larger than UDP allows' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'The request body has an unsupported media type' },
  OFFSET_OUT_OF_RANGE: { status: 416, title: 'The offset is past the received bytes' },
  HOST_NOT_ALLOWED: { status: 421, title: 'The Host header names a host this service does not answer for' },
  UPGRADE_REQUIRED: { status: 426, title: 'This route answers WebSocket upgrades only' },
  QUOTA_EXCEEDED: { status: 429, title: 'A quota is exhausted' },
  WRITE_BUFFER_FULL: { status: 429, title: 'The peer is not reading what was sent' },
  HEADERS_TOO_LARGE: { status: 431, title: 'The request headers are too large' },
  INTERNAL_ERROR: { status: 500, title: 'Internal error' },
  CONNECTION_REFUSED: { status: 502, title: 'The peer refused the connection' },
  HOST_UNREACHABLE: { status: 502, title: 'The host is unreachable' },
  NAME_NOT_RESOLVED: { status: 502, title: 'The host name did not resolve' },
  NETWORK_ERROR: { status: 502, title: 'The network operation failed' },
  TLS_CERT_UNTRUSTED: { status: 502, title: 'The peer’s certificate is not trusted' },
  TLS_HOSTNAME_MISMATCH: { status: 502, title: 'The peer’s certificate is not for the name asked for' },
  TLS_HANDSHAKE_FAILED: { status: 502, title: 'The TLS handshake failed' },
  TOO_MANY_OPEN_FILES: { status: 503, title: 'The service is out of file descriptors', retryAfterSeconds: 1 },
  OVERLOADED: { status: 503, title: 'The service is overloaded', retryAfterSeconds: 5 },
  SHUTTING_DOWN: { status: 503, title: 'The service is shutting down' },
  NOT_READY: { status: 503, title: 'The service is not ready' },
  CONNECT_TIMEOUT: { status: 504, title: 'The connection attempt timed out' },
  OWNER_LOST: { status: 410, title: 'The cluster node that held this socket is lost, and the socket with it' },
  CLUSTER_UNAVAILABLE: { status: 503, title: 'The cluster cannot be reached from this node', retryAfterSeconds: 5 },
  OWNER_UNREACHABLE: { status: 503, title: 'The cluster node that holds this socket is not answering', retryAfterSeconds: 2 },
  FAULT_NOT_FOUND: { status: 404, title: 'No such fault' },
  FAULT_TARGET_NOT_FOUND: { status: 404, title: 'No proxy, listener or open connection has that id' },
  FAULT_NOT_APPLICABLE: { status: 400, title: 'The fault type does not apply to that target' },
  FAULT_EXISTS: { status: 409, title: 'The target has a fault of that name already' },
  PROXY_EXISTS: { status: 409, title: 'A proxy of that name exists already' },
  NAME_IN_USE: { status: 409, title: 'Another resource of this kind and owner has that name' },
} as const satisfies Record<string, CatalogEntry> & Record<SocketErrorCode, CatalogEntry> & Record<TlsErrorCode, CatalogEntry>;

export type ApiErrorCode = keyof typeof ERROR_CATALOG;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** The problem `type` URI for a code: a URN, stable and not meant to be dereferenced. */
export function problemType(code: ApiErrorCode): string {
  return `urn:sockplane:problem:${code.toLowerCase().replaceAll('_', '-')}`;
}
