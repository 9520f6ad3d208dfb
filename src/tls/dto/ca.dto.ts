import { ApiProperty } from '@nestjs/swagger';
import { OctetAnswer } from '../../common/corked-reply';
import { IsOneOf, unsetFirst } from '../../common/validation';
import { InstanceCa } from '../../sockets/tls/instance-ca';

export const PEM_FILE = 'application/x-pem-file';

export class CaDto {
  @ApiProperty({ description: 'The CA certificate in PEM: what a client trusts (`curl --cacert`, `openssl s_client -CAfile`, `ca` in Node)', example: '-----BEGIN CERTIFICATE-----\nMIIB…\n-----END CERTIFICATE-----\n' })
  certificate!: string;

  @ApiProperty({ description: 'SHA-256 fingerprint, as `openssl x509 -noout -fingerprint -sha256` prints it', example: '3A:7F:0C:9E:41:D2:88:5B:16:E4:A0:C3:77:29:BD:05:6E:F1:92:4A:D8:33:0B:C6:5F:E2:71:18:A9:4D:60:BC' })
  fingerprint256!: string;

  @ApiProperty({ example: 'CN=sockplane instance CA 5f1c2a9e, O=sockplane' })
  subject!: string;

  @ApiProperty({ example: 'A3F09C2B7D1E4F6A8B0C2D4E6F8A0B1C' })
  serialNumber!: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-25T15:30:00.000Z' })
  validFrom!: string;

  @ApiProperty({ format: 'date-time', example: '2027-11-25T16:30:00.000Z' })
  validTo!: string;

  @ApiProperty({ enum: ['generated', 'files'], description: '`generated` in memory at start, or loaded from the files SOCKPLANE_TLS_CA_CERT_FILE and SOCKPLANE_TLS_CA_KEY_FILE name', example: 'generated' })
  source!: 'generated' | 'files';
}

export class GetCaQueryDto {
  @IsOneOf(['json', 'pem'], {
    description: '`pem` answers the bare PEM certificate (as `Accept: application/x-pem-file` does), for `curl … > ca.pem`',
    examples: unsetFirst('JSON, unless Accept asks for PEM', { pem: { summary: 'The bare PEM file', value: 'pem' } }),
  })
  format?: 'json' | 'pem';
}

export function toCaDto(ca: InstanceCa, source: CaDto['source']): CaDto {
  const { info } = ca;
  return {
    certificate: ca.certificatePem,
    fingerprint256: info.fingerprint256,
    subject: info.subject,
    serialNumber: info.serialNumber,
    validFrom: info.validFrom.toISOString(),
    validTo: info.validTo.toISOString(),
    source,
  };
}

/** The bare PEM answer, saved as a file by browsers and `curl -OJ`. */
export function toCaPem(ca: CaDto): OctetAnswer {
  return new OctetAnswer(`${PEM_FILE}; charset=utf-8`, { 'content-disposition': 'attachment; filename="sockplane-ca.pem"' }, [Buffer.from(ca.certificate)]);
}
