/**
 * The stable machine codes the sockets layer reports. The HTTP layer maps each one to a status
 * in `common/error-catalog.ts`; nothing here knows about HTTP.
 */
export type SocketErrorCode =
  | 'SOCKET_NOT_FOUND'
  | 'SOCKET_CLOSED'
  | 'ADDRESS_IN_USE'
  | 'ADDRESS_NOT_AVAILABLE'
  | 'PERMISSION_DENIED'
  | 'CONNECTION_REFUSED'
  | 'HOST_UNREACHABLE'
  | 'NAME_NOT_RESOLVED'
  | 'NETWORK_ERROR'
  | 'CONNECT_TIMEOUT'
  | 'OFFSET_RELEASED'
  | 'OFFSET_OUT_OF_RANGE'
  | 'INVALID_PAYLOAD'
  | 'INVALID_DESTINATION'
  | 'POLICY_DENIED'
  | 'DATAGRAM_TOO_LARGE'
  | 'INVALID_CURSOR'
  | 'QUOTA_EXCEEDED'
  | 'WRITE_BUFFER_FULL'
  | 'NO_FRAMING'
  | 'TOO_MANY_OPEN_FILES'
  | 'SHUTTING_DOWN'
  | 'FAULT_NOT_FOUND'
  | 'FAULT_TARGET_NOT_FOUND'
  | 'FAULT_NOT_APPLICABLE'
  | 'FAULT_EXISTS'
  | 'PROXY_EXISTS'
  | 'NAME_IN_USE';

export class SocketError extends Error {
  constructor(
    readonly code: SocketErrorCode,
    message: string,
    /** Extra members for the problem document (errno, syscall, offsets…). */
    readonly details: Record<string, string | number | boolean> = {},
  ) {
    super(message);
    this.name = 'SocketError';
  }
}

const ERRNO_TO_CODE: Record<string, SocketErrorCode> = {
  EADDRINUSE: 'ADDRESS_IN_USE',
  EADDRNOTAVAIL: 'ADDRESS_NOT_AVAILABLE',
  EACCES: 'PERMISSION_DENIED',
  EPERM: 'PERMISSION_DENIED',
  ECONNREFUSED: 'CONNECTION_REFUSED',
  EHOSTUNREACH: 'HOST_UNREACHABLE',
  ENETUNREACH: 'HOST_UNREACHABLE',
  ENOTFOUND: 'NAME_NOT_RESOLVED',
  EAI_AGAIN: 'NAME_NOT_RESOLVED',
  EAI_NONAME: 'NAME_NOT_RESOLVED',
  EAI_NODATA: 'NAME_NOT_RESOLVED',
  ETIMEDOUT: 'CONNECT_TIMEOUT',
  EMSGSIZE: 'DATAGRAM_TOO_LARGE',
  EMFILE: 'TOO_MANY_OPEN_FILES',
  ENFILE: 'TOO_MANY_OPEN_FILES',
};

/** Turns an error raised by `net`, `dgram` or `dns` into a domain error keeping its errno code. */
export function fromSystemError(err: unknown, action: string): SocketError {
  if (err instanceof SocketError) return err;
  const sys = err as NodeJS.ErrnoException;
  const errno = typeof sys?.code === 'string' ? sys.code : 'UNKNOWN';
  const code = ERRNO_TO_CODE[errno] ?? 'NETWORK_ERROR';
  const details: Record<string, string> = { errno };
  if (sys?.syscall) details.syscall = sys.syscall;
  return new SocketError(code, `${action} failed: ${sys?.message ?? String(err)}`, details);
}

export function errnoOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : 'UNKNOWN';
}
