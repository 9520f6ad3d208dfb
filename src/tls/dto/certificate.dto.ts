import { ApiProperty } from '@nestjs/swagger';
import { CertificateInfo } from '../../sockets/tls/certificate-info';
import { StoredCertificate } from '../../sockets/tls/certificate-store';

/** A certificate's public facts. */
export class CertificateSummaryDto {
  @ApiProperty({ example: 'CN=api.example.test' })
  subject!: string;

  @ApiProperty({ example: 'CN=sockplane instance CA 5f1c2a9e, O=sockplane' })
  issuer!: string;

  @ApiProperty({ type: [String], description: 'In OpenSSL’s spelling: `DNS:…`, `IP:…`, `email:…`, `URI:…`', example: ['DNS:api.example.test', 'IP:127.0.0.1'] })
  subjectAltNames!: string[];

  @ApiProperty({ description: 'Upper-case hex, as `openssl x509 -noout -serial` prints it', example: '5E0B8C7A1F2D3E4F5A6B7C8D9E0F1A2B' })
  serialNumber!: string;

  @ApiProperty({ description: 'SHA-256 fingerprint, as `openssl x509 -noout -fingerprint -sha256` prints it', example: '9C:1B:7E:52:0F:A4:36:D8:E1:2C:5B:90:47:3F:AE:61:08:D5:B2:7C:E9:14:6A:83:C0:5D:F7:29:B6:40:1E:9A' })
  fingerprint256!: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-25T15:30:00.000Z' })
  validFrom!: string;

  @ApiProperty({ format: 'date-time', example: '2027-11-25T16:30:00.000Z' })
  validTo!: string;

  @ApiProperty({ description: 'Whether it is a CA certificate (basicConstraints CA:TRUE)', example: false })
  isCa!: boolean;
}

/** A stored certificate. Its private key is write-only: no representation has a member for it. */
export class CertificateDto extends CertificateSummaryDto {
  @ApiProperty({ example: 'ct_000001a1b2c3d4e5' })
  id!: string;

  @ApiProperty({ enum: ['tls-certificate'], example: 'tls-certificate' })
  kind!: 'tls-certificate';

  @ApiProperty({ enum: ['upload', 'generated'], description: '`upload`: certificate and key sent by the caller; `generated`: issued by the instance CA', example: 'generated' })
  source!: 'upload' | 'generated';

  @ApiProperty({ description: 'The certificate in PEM (public: every handshake shows it)', example: '-----BEGIN CERTIFICATE-----\nMIIB…\n-----END CERTIFICATE-----\n' })
  certificate!: string;

  @ApiProperty({ description: 'The key’s algorithm and size; the key itself is never shown', example: 'ec-p256' })
  keyAlgorithm!: string;

  @ApiProperty({ type: [CertificateSummaryDto], description: 'The certificates presented after it, its issuer first' })
  chain!: CertificateSummaryDto[];

  @ApiProperty({ format: 'date-time', example: '2026-11-25T16:30:00.000Z' })
  createdAt!: string;
}

export class CertificatePageDto {
  @ApiProperty({ type: [CertificateDto] })
  items!: CertificateDto[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last one', example: null })
  nextCursor!: string | null;
}

function toSummaryDto(info: CertificateInfo): CertificateSummaryDto {
  return {
    subject: info.subject,
    issuer: info.issuer,
    subjectAltNames: [...info.subjectAltNames],
    serialNumber: info.serialNumber,
    fingerprint256: info.fingerprint256,
    validFrom: info.validFrom.toISOString(),
    validTo: info.validTo.toISOString(),
    isCa: info.isCa,
  };
}

export function toCertificateDto(record: StoredCertificate): CertificateDto {
  return {
    id: record.id,
    kind: 'tls-certificate',
    source: record.source,
    ...toSummaryDto(record.info),
    certificate: record.certificatePem,
    keyAlgorithm: record.keyAlgorithm,
    chain: record.chain.map(toSummaryDto),
    createdAt: record.createdAt.toISOString(),
  };
}
