import { ApiProperty } from '@nestjs/swagger';
import { IsBooleanField, IsOneOf, IsText, IsTextList } from '../../common/validation';
import { ListenerTls } from '../../sockets/tcp-listener';
import { TLS_VERSIONS, TlsVersion } from '../../sockets/tls/tls-session';

export const LISTENER_TLS_MODES = ['implicit', 'starttls', 'off'] as const;
export type ListenerTlsMode = (typeof LISTENER_TLS_MODES)[number];

/** `tls` of `POST /v1/tcp/listeners`: how accepted connections speak TLS. */
export class ListenerTlsDto {
  @IsOneOf(LISTENER_TLS_MODES, {
    required: true,
    description:
      '`implicit`: every accepted connection handshakes at once (HTTPS, IMAPS); `starttls`: they start in clear text and upgrade with these settings ' +
      'when `POST /v1/tcp/connections/{id}/tls` asks (SMTP, IMAP); `off`: plain TCP',
    example: 'implicit',
  })
  mode!: ListenerTlsMode;

  @IsText({
    maxLength: 64,
    pattern: { source: '^ct_[0-9a-f]{16}$', message: 'tls.certificate must be a certificate id (ct_…)' },
    description: 'A certificate id from `POST /v1/tls/certificates`, presented to every client. Omitted: a leaf the instance CA mints for each name a client asks for (SNI)',
  })
  certificate?: string;

  @IsTextList({ minItems: 0, maxItems: 16, maxLength: 255, description: 'ALPN protocols offered, preferred first (`h2`, `http/1.1`); omitted: no ALPN', example: ['http/1.1'] })
  alpn?: string[];

  @IsOneOf(TLS_VERSIONS, { description: 'Oldest TLS version accepted', default: 'TLSv1.2', example: 'TLSv1.2' })
  minVersion!: TlsVersion;

  @IsOneOf(TLS_VERSIONS, { description: 'Newest TLS version accepted', default: 'TLSv1.3', example: 'TLSv1.3' })
  maxVersion!: TlsVersion;

  @IsBooleanField({
    description: 'Ask clients for a certificate (mTLS). Those that send none, or one that does not chain to `clientCa` (or the instance CA), fail the handshake',
    default: false,
  })
  requestClientCert!: boolean;

  @IsText({ maxLength: 1_048_576, description: 'PEM bundle client certificates must chain to; omitted: the instance CA' })
  clientCa?: string;
}

/** What a listener's `tls` shows: its settings, never key material. */
export class ListenerTlsSettingsDto {
  @ApiProperty({ enum: LISTENER_TLS_MODES, example: 'implicit' })
  mode!: ListenerTlsMode;

  @ApiProperty({ type: String, nullable: true, description: 'The certificate presented; null: leaves minted per SNI name by the instance CA', example: null })
  certificate!: string | null;

  @ApiProperty({ type: [String], example: [] })
  alpn!: string[];

  @ApiProperty({ enum: TLS_VERSIONS, example: 'TLSv1.2' })
  minVersion!: TlsVersion;

  @ApiProperty({ enum: TLS_VERSIONS, example: 'TLSv1.3' })
  maxVersion!: TlsVersion;

  @ApiProperty({ example: false })
  requestClientCert!: boolean;

  @ApiProperty({ description: 'Whether client certificates are checked against a CA bundle of its own (else the instance CA)', example: false })
  ownClientCa!: boolean;
}

export function toListenerTlsSettingsDto(tls: ListenerTls | null): ListenerTlsSettingsDto {
  if (!tls) return { mode: 'off', certificate: null, alpn: [], minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', requestClientCert: false, ownClientCa: false };
  const { options } = tls.server;
  return {
    mode: tls.mode,
    certificate: options.certificateId,
    alpn: [...options.alpn],
    minVersion: options.minVersion,
    maxVersion: options.maxVersion,
    requestClientCert: options.requestClientCert,
    ownClientCa: options.clientCa !== null,
  };
}
