import { IsBooleanField, IsHost, IsOneOf, IsText, IsTextList } from '../../common/validation';

export const CLIENT_TLS_MODES = ['implicit', 'off'] as const;
export type ClientTlsMode = (typeof CLIENT_TLS_MODES)[number];

/** `tls` of `POST /v1/tcp/connections`: TLS from the start, as the client. */
export class ConnectionTlsRequestDto {
  @IsOneOf(CLIENT_TLS_MODES, { required: true, description: '`implicit`: handshake right after connecting (HTTPS, IMAPS); `off`: plain TCP', example: 'implicit' })
  mode!: ClientTlsMode;

  @IsHost({
    required: false,
    description: 'The name sent as SNI and checked against the server’s certificate. Omitted: the `host` asked for (an IP address is checked, but sent as no SNI)',
    example: 'echo.example.test',
  })
  servername?: string;

  @IsTextList({ minItems: 0, maxItems: 16, maxLength: 255, description: 'ALPN protocols offered, preferred first; omitted: no ALPN', example: ['http/1.1'] })
  alpn?: string[];

  @IsText({
    maxLength: 1_048_576,
    description: 'What to trust: `system` (Node’s bundled root CAs), `instance` (this service’s CA, `GET /v1/tls/ca`), or a PEM bundle',
    default: 'system',
    example: 'instance',
  })
  ca!: string;

  @IsBooleanField({
    description: 'Refuse a server whose certificate is untrusted (502 TLS_CERT_UNTRUSTED) or not for the name (502 TLS_HOSTNAME_MISMATCH). `false` connects anyway and shows why in `tls.authorizationError`',
    default: true,
  })
  rejectUnauthorized!: boolean;

  @IsText({
    maxLength: 64,
    pattern: { source: '^ct_[0-9a-f]{16}$', message: 'tls.clientCertificate must be a certificate id (ct_…)' },
    description: 'A certificate id from `POST /v1/tls/certificates` to present when the server asks (mTLS)',
  })
  clientCertificate?: string;
}
