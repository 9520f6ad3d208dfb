import { IsBooleanField, IsHost, IsIntegerField, IsOneOf, IsText, IsTextList } from '../../common/validation';
import { TLS_VERSIONS, TlsVersion } from '../../sockets/tls/tls-session';

export const STARTTLS_ROLES = ['client', 'server'] as const;
export type StartTlsRole = (typeof STARTTLS_ROLES)[number];

const CERTIFICATE_ID = { source: '^ct_[0-9a-f]{16}$', message: 'must be a certificate id (ct_…)' };

/** `POST /v1/tcp/connections/{id}/tls`: upgrade an open connection in place (STARTTLS). */
export class StartTlsDto {
  @IsOneOf(STARTTLS_ROLES, {
    required: true,
    description:
      'Which side of the handshake this service takes: `server` (an SMTP server after `220 ready`) or `client`. ' +
      'The server role on a connection a `starttls` listener accepted takes that listener’s TLS settings; the server fields below apply elsewhere',
    example: 'server',
  })
  role!: StartTlsRole;

  @IsIntegerField({
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    description:
      'Byte-log offset where the peer’s TLS bytes start: bytes received from it on (a ClientHello sent right after `220 ready`) leave the log and go to TLS. ' +
      'Usually the `nextOffset` of the read that returned the STARTTLS command. Omitted: the end of the log (nothing arrived past the switch)',
    example: 10,
  })
  inOffset?: number;

  @IsHost({ required: false, description: 'Client role: the name sent as SNI and checked against the server’s certificate. Omitted: the peer’s address', example: 'mail.example.test' })
  servername?: string;

  @IsTextList({ minItems: 0, maxItems: 16, maxLength: 255, description: 'ALPN protocols offered, preferred first; omitted: no ALPN' })
  alpn?: string[];

  @IsText({ maxLength: 1_048_576, description: 'Client role: what to trust, `system`, `instance` or a PEM bundle', default: 'system', example: 'instance' })
  ca!: string;

  @IsBooleanField({ description: 'Client role: refuse an untrusted certificate or a wrong name', default: true })
  rejectUnauthorized!: boolean;

  @IsText({ maxLength: 64, pattern: { ...CERTIFICATE_ID, message: `clientCertificate ${CERTIFICATE_ID.message}` }, description: 'Client role: a certificate id to present when the server asks' })
  clientCertificate?: string;

  @IsText({
    maxLength: 64,
    pattern: { ...CERTIFICATE_ID, message: `certificate ${CERTIFICATE_ID.message}` },
    description: 'Server role: the certificate id to present. Omitted: leaves the instance CA mints per SNI name',
  })
  certificate?: string;

  @IsOneOf(TLS_VERSIONS, { description: 'Oldest TLS version accepted', default: 'TLSv1.2' })
  minVersion!: TlsVersion;

  @IsOneOf(TLS_VERSIONS, { description: 'Newest TLS version accepted', default: 'TLSv1.3' })
  maxVersion!: TlsVersion;

  @IsBooleanField({ description: 'Server role: require a client certificate that chains to `clientCa` (or the instance CA)', default: false })
  requestClientCert!: boolean;

  @IsText({ maxLength: 1_048_576, description: 'Server role: PEM bundle client certificates must chain to; omitted: the instance CA' })
  clientCa?: string;
}
