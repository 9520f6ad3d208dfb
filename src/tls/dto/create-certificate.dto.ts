import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsOptional, IsString, MaxLength, MinLength, ValidateBy, ValidateIf, ValidateNested } from 'class-validator';
import { IsIntegerField, IsOneOf } from '../../common/validation';
import { KEY_TYPES, KeyType } from '../../sockets/tls/keys';

export class GenerateCertificateDto {
  @ApiProperty({ description: 'The subject’s common name (CN)', minLength: 1, maxLength: 64, example: 'api.example.test' })
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  commonName!: string;

  @ApiPropertyOptional({
    type: [String],
    maxItems: 100,
    description: 'DNS names (a leading `*.` allowed) and IP literals, each getting the SAN type clients check it against. Omitted: the common name, when it is a host name or address',
    example: ['api.example.test', '127.0.0.1'],
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @MaxLength(253, { each: true })
  subjectAltNames?: string[];

  @IsIntegerField({ min: 1, max: 3650, description: 'Days it is valid from now; it ends with the instance CA at the latest', default: 90, example: 90 })
  validityDays: number = 90;

  @IsOneOf(KEY_TYPES, { description: 'Key of the new key pair: `ec-p256` (fast) or `rsa-2048` (for peers without ECDSA)', default: 'ec-p256', example: 'ec-p256' })
  keyType: KeyType = 'ec-p256';
}

const UPLOAD_FIELDS = ['certificate', 'privateKey', 'chain'] as const;

/** `generate` excludes the upload fields: the body is one or the other. */
function NotWithUpload(): PropertyDecorator {
  return ValidateBy({
    name: 'notWithUpload',
    validator: {
      validate: (_value, args) => UPLOAD_FIELDS.every((field) => (args?.object as Record<string, unknown>)[field] === undefined),
      defaultMessage: () => 'generate cannot come with certificate, privateKey or chain: send an upload or a generate request',
    },
  });
}

/** Upload `{certificate, privateKey, chain}` or ask for `{generate: {…}}`. */
export class CreateCertificateDto {
  @ApiPropertyOptional({ description: 'The certificate in PEM; may be followed by its chain (a fullchain.pem). Needed unless `generate` is given', example: '-----BEGIN CERTIFICATE-----\n…\n-----END CERTIFICATE-----\n' })
  @ValidateIf((body: CreateCertificateDto) => body.generate === undefined || body.certificate !== undefined)
  @IsString({ message: 'certificate (PEM) is needed unless generate is given' })
  certificate?: string;

  @ApiPropertyOptional({
    description: 'Its private key in PEM (PKCS#8, PKCS#1 or SEC1), unencrypted. Write-only: never returned, never logged, held in memory only',
    writeOnly: true,
    example: '-----BEGIN PRIVATE KEY-----\n…\n-----END PRIVATE KEY-----\n',
  })
  @ValidateIf((body: CreateCertificateDto) => body.generate === undefined || body.privateKey !== undefined)
  @IsString({ message: 'privateKey (PEM) is needed unless generate is given' })
  privateKey?: string;

  @ApiPropertyOptional({ description: 'Intermediate certificates in PEM, the certificate’s issuer first', example: '-----BEGIN CERTIFICATE-----\n…\n-----END CERTIFICATE-----\n' })
  @IsOptional()
  @IsString()
  chain?: string;

  @ApiPropertyOptional({ type: GenerateCertificateDto, description: 'Have the instance CA issue a certificate with a new key pair, instead of uploading one' })
  @IsOptional()
  @ValidateNested()
  @Type(() => GenerateCertificateDto)
  @NotWithUpload()
  generate?: GenerateCertificateDto;
}
