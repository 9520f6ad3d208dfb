/**
 * The stable machine codes the TLS runtime reports. The HTTP layer maps each one to a status in
 * `common/error-catalog.ts`; nothing here knows about HTTP. Messages never quote key material.
 */
export type TlsErrorCode =
  | 'CERTIFICATE_INVALID'
  | 'PRIVATE_KEY_INVALID'
  | 'KEY_MISMATCH'
  | 'CERTIFICATE_EXPIRED'
  | 'INVALID_SERVER_NAME'
  | 'UPLOADS_DISABLED'
  | 'CERTIFICATE_NOT_FOUND'
  | 'BODY_TOO_LARGE'
  | 'QUOTA_EXCEEDED'
  | 'TLS_UPGRADE_REFUSED'
  | TlsClientErrorCode;

/** Why a TLS client connection was refused: its own codes, so callers can tell them apart. */
export type TlsClientErrorCode = 'TLS_CERT_UNTRUSTED' | 'TLS_HOSTNAME_MISMATCH' | 'TLS_HANDSHAKE_FAILED';

export class TlsError extends Error {
  constructor(
    readonly code: TlsErrorCode,
    message: string,
    /** Extra members for the problem document (the field at fault, limits…). */
    readonly details: Record<string, string | number | boolean> = {},
  ) {
    super(message);
    this.name = 'TlsError';
  }
}

/**
 * The instance CA named in the configuration cannot be used (unreadable, not a CA, key not its
 * own). Raised at start-up only, so the service refuses to start rather than serve a broken CA.
 */
export class CaLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CaLoadError';
  }
}
