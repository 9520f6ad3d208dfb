import { ApiProperty } from '@nestjs/swagger';
import { NO_TLS, TLS_STATES, TlsSession, TlsState } from '../../sockets/tls/tls-session';

export class CipherDto {
  @ApiProperty({ description: 'OpenSSL’s name', example: 'TLS_AES_256_GCM_SHA384' })
  name!: string;

  @ApiProperty({ description: 'The IANA name', example: 'TLS_AES_256_GCM_SHA384' })
  standardName!: string;
}

export class PeerCertificateDto {
  @ApiProperty({ example: 'CN=client.example.test' })
  subject!: string;

  @ApiProperty({ example: 'CN=sockplane instance CA 5f1c2a9e, O=sockplane' })
  issuer!: string;

  @ApiProperty({ type: String, nullable: true, description: 'As OpenSSL prints it', example: 'DNS:client.example.test' })
  subjectAltName!: string | null;

  @ApiProperty({ format: 'date-time', example: '2026-11-25T15:30:00.000Z' })
  validFrom!: string;

  @ApiProperty({ format: 'date-time', example: '2027-02-23T15:30:00.000Z' })
  validTo!: string;

  @ApiProperty({ example: '5E0B8C7A1F2D3E4F5A6B7C8D9E0F1A2B' })
  serialNumber!: string;

  @ApiProperty({ example: '9C:1B:7E:52:0F:A4:36:D8:E1:2C:5B:90:47:3F:AE:61:08:D5:B2:7C:E9:14:6A:83:C0:5D:F7:29:B6:40:1E:9A' })
  fingerprint256!: string;
}

export class StartOffsetsDto {
  @ApiProperty({ description: 'Byte-log offset of the first decrypted byte received (0: TLS from the start)', example: 0 })
  in!: number;

  @ApiProperty({ description: 'Bytes sent in clear text before TLS started', example: 0 })
  out!: number;
}

/** A connection's TLS session. */
export class ConnectionTlsDto {
  @ApiProperty({ enum: TLS_STATES, description: '`none`: plain TCP; `handshaking`; `established`; `failed` (see `failure`; the connection closes)', example: 'established' })
  state!: TlsState;

  @ApiProperty({ type: String, nullable: true, example: 'TLSv1.3' })
  protocol!: string | null;

  @ApiProperty({ type: CipherDto, nullable: true })
  cipher!: CipherDto | null;

  @ApiProperty({ type: String, nullable: true, description: 'What ALPN chose', example: null })
  alpnProtocol!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'The server name the client asked for (SNI)', example: 'api.example.test' })
  servername!: string | null;

  @ApiProperty({ example: false })
  sessionReused!: boolean;

  @ApiProperty({ description: 'Whether the peer’s certificate verified (false when it sent none)', example: false })
  authorized!: boolean;

  @ApiProperty({ type: String, nullable: true, description: 'Why the peer’s certificate did not verify', example: null })
  authorizationError!: string | null;

  @ApiProperty({ type: PeerCertificateDto, nullable: true, description: 'The certificate the peer presented; null when it sent none' })
  peerCertificate!: PeerCertificateDto | null;

  @ApiProperty({ type: Number, nullable: true, description: 'How long the handshake took; null while it runs', example: 4 })
  handshakeMs!: number | null;

  @ApiProperty({ type: StartOffsetsDto })
  startOffsets!: StartOffsetsDto;

  @ApiProperty({ type: String, nullable: true, description: 'OpenSSL’s reason, when the handshake failed', example: null })
  failure!: string | null;
}

export function toConnectionTlsDto(session: TlsSession | null): ConnectionTlsDto {
  const info = session?.info ?? NO_TLS;
  return { ...info, cipher: info.cipher && { ...info.cipher }, peerCertificate: info.peerCertificate && { ...info.peerCertificate }, startOffsets: { ...info.startOffsets } };
}
