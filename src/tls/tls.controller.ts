import { Body, Controller, Delete, Get, Header, Headers, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBody, ApiExtraModels, ApiOperation, ApiResponse, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { FastifyReply } from 'fastify';
import { Caller } from '../auth/caller';
import { Owner } from '../auth/owner.decorator';
import { ApiIdParam, ApiKeyAuth, ApiProblems } from '../common/api-docs';
import { sendAnswer } from '../common/corked-reply';
import { negotiate } from '../common/negotiation';
import { Validated } from '../common/route-validation';
import { CaDto, GetCaQueryDto, PEM_FILE, toCaPem } from './dto/ca.dto';
import { CertificateDto, CertificatePageDto } from './dto/certificate.dto';
import { CreateCertificateDto } from './dto/create-certificate.dto';
import { ListCertificatesQueryDto } from './dto/list-certificates.dto';
import { TlsService } from './tls.service';

const CERTIFICATE_ID = ApiIdParam('certificate');

@ApiTags('TLS')
@ApiKeyAuth()
@Controller('v1/tls')
export class TlsController {
  constructor(private readonly tls: TlsService) {}

  @Get('ca')
  // The answer's form follows Accept: a cache must key on it.
  @Header('Vary', 'Accept')
  @ApiOperation({
    summary: 'Get the instance CA certificate',
    description:
      'The certificate of the CA that signs every leaf TLS listeners present and every generated certificate: trust it once and reach any name. ' +
      `Public material only. With \`Accept: ${PEM_FILE}\` or \`format=pem\` the body is the bare PEM, so \`curl …/v1/tls/ca?format=pem > ca.pem\` saves a file ` +
      'for `openssl s_client -CAfile ca.pem`, `curl --cacert ca.pem` or Python’s `ssl.create_default_context(cafile="ca.pem")`.',
  })
  @ApiResponse({
    status: 200,
    description: 'The CA certificate',
    content: {
      'application/json': { schema: { $ref: getSchemaPath(CaDto) } },
      [PEM_FILE]: { schema: { type: 'string' }, example: '-----BEGIN CERTIFICATE-----\nMIIB…\n-----END CERTIFICATE-----\n' },
    },
  })
  @ApiExtraModels(CaDto)
  @ApiProblems('VALIDATION_FAILED', 'NOT_ACCEPTABLE')
  @Validated({ query: GetCaQueryDto })
  getCa(
    @Query() query: GetCaQueryDto,
    @Headers('accept') accept: string | undefined,
    // Not passthrough: the PEM answer is written here, and Nest must not send after it.
    @Res() reply: FastifyReply,
  ): void {
    // `format` is the caller's explicit choice, so only without it does Accept decide (and may answer 406).
    const form = query.format === undefined ? negotiate(accept, PEM_FILE) : query.format === 'pem' ? 'binary' : 'json';
    const ca = this.tls.getCa();
    sendAnswer(reply, form === 'json' ? ca : toCaPem(ca));
  }

  @Post('certificates')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Upload or generate a certificate',
    description:
      'Upload a certificate and its private key in PEM (`certificate`, `privateKey`, optionally `chain`), or have the instance CA issue one with ' +
      '`generate`. An upload is checked: both parse, the key belongs to the certificate (same public key), it is valid now, and each chain ' +
      'certificate issued the one before. The key is write-only: no answer or log line ever shows it, and it is held in memory only. ' +
      'The certificate belongs to the API key that made it. Uploads can be switched off (SOCKPLANE_TLS_ALLOW_UPLOADS=false); generating cannot.',
  })
  // Only `generate` as an example: an upload example would publish a private key in the
  // document; docs/tls.md shows the upload form with keys made on the spot.
  @ApiBody({
    type: CreateCertificateDto,
    examples: {
      generate: {
        summary: 'Generate one for a name and 127.0.0.1, signed by the instance CA',
        value: { generate: { commonName: 'api.example.test', subjectAltNames: ['api.example.test', '127.0.0.1'], validityDays: 90, keyType: 'ec-p256' } },
      },
    },
  })
  @ApiResponse({ status: 201, type: CertificateDto, description: 'Stored; the answer never carries the key' })
  @ApiProblems(
    'VALIDATION_FAILED',
    'MALFORMED_REQUEST',
    'CERTIFICATE_INVALID',
    'PRIVATE_KEY_INVALID',
    'KEY_MISMATCH',
    'CERTIFICATE_EXPIRED',
    'INVALID_SERVER_NAME',
    'UPLOADS_DISABLED',
    'BODY_TOO_LARGE',
    'UNSUPPORTED_MEDIA_TYPE',
    'QUOTA_EXCEEDED',
  )
  @Validated({ body: CreateCertificateDto })
  createCertificate(@Body() body: CreateCertificateDto, @Owner() caller: Caller): Promise<CertificateDto> {
    return this.tls.createCertificate(body, caller);
  }

  @Get('certificates')
  @ApiOperation({ summary: 'List certificates', description: 'The caller’s uploaded and generated certificates, oldest first, a page at a time. Never their keys.' })
  @ApiResponse({ status: 200, type: CertificatePageDto })
  @ApiProblems('VALIDATION_FAILED', 'INVALID_CURSOR')
  @Validated({ query: ListCertificatesQueryDto })
  listCertificates(@Query() query: ListCertificatesQueryDto, @Owner() caller: Caller): CertificatePageDto {
    return this.tls.listCertificates(query, caller);
  }

  @Get('certificates/:id')
  @CERTIFICATE_ID
  @ApiOperation({ summary: 'Get a certificate', description: 'Its subject, issuer, names, validity, fingerprint and chain. Never its key.' })
  @ApiResponse({ status: 200, type: CertificateDto })
  @ApiProblems('CERTIFICATE_NOT_FOUND')
  getCertificate(@Param('id') id: string, @Owner() caller: Caller): CertificateDto {
    return this.tls.getCertificate(id, caller);
  }

  @Delete('certificates/:id')
  @HttpCode(200)
  @CERTIFICATE_ID
  @ApiOperation({
    summary: 'Delete a certificate',
    description: 'Forgets the certificate and its key. Listeners already presenting it keep doing so until they close. Answers with its last representation.',
  })
  @ApiResponse({ status: 200, type: CertificateDto, description: 'Deleted' })
  @ApiProblems('CERTIFICATE_NOT_FOUND')
  deleteCertificate(@Param('id') id: string, @Owner() caller: Caller): CertificateDto {
    return this.tls.deleteCertificate(id, caller);
  }
}
