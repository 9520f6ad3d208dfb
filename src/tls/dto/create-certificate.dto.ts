import { IsIntegerField, IsNestedObject, IsOneOf, IsText, IsTextList } from '../../common/validation';
import { KEY_TYPES, KeyType } from '../../sockets/tls/keys';

export class GenerateCertificateDto {
  @IsText({ required: true, minLength: 1, maxLength: 64, description: 'The subject’s common name (CN)', example: 'api.example.test' })
  commonName!: string;

  @IsTextList({
    minItems: 0,
    maxItems: 100,
    maxLength: 253,
    description: 'DNS names (a leading `*.` allowed) and IP literals, each getting the SAN type clients check it against. Omitted: the common name, when it is a host name or address',
    example: ['api.example.test', '127.0.0.1'],
  })
  subjectAltNames?: string[];

  @IsIntegerField({ min: 1, max: 3650, description: 'Days it is valid from now; it ends with the instance CA at the latest', default: 90, example: 90 })
  validityDays!: number;

  @IsOneOf(KEY_TYPES, { description: 'Key of the new key pair: `ec-p256` (fast) or `rsa-2048` (for peers without ECDSA)', default: 'ec-p256', example: 'ec-p256' })
  keyType!: KeyType;
}

/**
 * Upload `{certificate, privateKey, chain}` or ask for `{generate: {…}}`; the service refuses a
 * body with both or neither, naming the fields (`uploadOrGenerate`).
 */
export class CreateCertificateDto {
  @IsText({ maxLength: 1_048_576, description: 'The certificate in PEM; may be followed by its chain (a fullchain.pem). Needed unless `generate` is given', example: '-----BEGIN CERTIFICATE-----\n…\n-----END CERTIFICATE-----\n' })
  certificate?: string;

  @IsText({
    maxLength: 1_048_576,
    writeOnly: true,
    description: 'Its private key in PEM (PKCS#8, PKCS#1 or SEC1), unencrypted. Write-only: never returned, never logged, held in memory only',
    example: '-----BEGIN PRIVATE KEY-----\n…\n-----END PRIVATE KEY-----\n',
  })
  privateKey?: string;

  @IsText({ maxLength: 1_048_576, description: 'Intermediate certificates in PEM, the certificate’s issuer first', example: '-----BEGIN CERTIFICATE-----\n…\n-----END CERTIFICATE-----\n' })
  chain?: string;

  @IsNestedObject(GenerateCertificateDto, { description: 'Have the instance CA issue a certificate with a new key pair, instead of uploading one' })
  generate?: GenerateCertificateDto;
}
