import { Injectable } from '@nestjs/common';
import { Caller } from '../auth/caller';
import { ApiProblem, FieldError } from '../common/api-problem';
import { TlsSettings } from '../config/app-config';
import { CertificateStore, CertificateUpload } from '../sockets/tls/certificate-store';
import { InstanceCa } from '../sockets/tls/instance-ca';
import { LeafMinter } from '../sockets/tls/leaf-minter';
import { SocketRegistry } from '../sockets/socket-registry';
import { TcpConnection } from '../sockets/tcp-connection';
import { TlsClientOptions, beginTlsClient, clientRefusal } from '../sockets/tls/tls-client';
import { TlsError } from '../sockets/tls/tls-error';
import { TlsServer, assertCertificateBundle } from '../sockets/tls/tls-session';
import { ConnectionTlsRequestDto } from './dto/connection-tls-request.dto';
import { StartTlsDto } from './dto/start-tls.dto';
import { ListenerTlsDto } from './dto/listener-tls.dto';
import { CaDto, toCaDto } from './dto/ca.dto';
import { CertificateDto, CertificatePageDto, toCertificateDto } from './dto/certificate.dto';
import { CreateCertificateDto, GenerateCertificateDto } from './dto/create-certificate.dto';
import { ListCertificatesQueryDto } from './dto/list-certificates.dto';

/**
 * Translates between the REST representations and the TLS runtime. Certificates belong to the
 * caller's key, as sockets do; the representations come from `toCertificateDto`, which has no
 * key to give.
 */
@Injectable()
export class TlsService {
  constructor(
    private readonly ca: InstanceCa,
    private readonly store: CertificateStore,
    private readonly minter: LeafMinter,
    private readonly registry: SocketRegistry,
    private readonly settings: TlsSettings,
  ) {}

  getCa(): CaDto {
    return toCaDto(this.ca, this.settings.tlsCaCertFile === null ? 'generated' : 'files');
  }

  async createCertificate(dto: CreateCertificateDto, caller: Caller): Promise<CertificateDto> {
    const request = uploadOrGenerate(dto);
    const record = request.generate ? await this.store.generate(request.generate, caller.owner) : this.store.upload(request.upload, caller.owner);
    return toCertificateDto(record);
  }

  /** The TLS side of a new listener: its certificate (the caller's own) or minted leaves, and its handshake settings. */
  serverFor(dto: Omit<ListenerTlsDto, 'mode'>, caller: Caller): Promise<TlsServer> {
    if (dto.minVersion > dto.maxVersion) {
      throw invalid([{ field: 'tls.minVersion', message: `tls.minVersion ${dto.minVersion} is newer than tls.maxVersion ${dto.maxVersion}` }]);
    }
    const credentials = dto.certificate === undefined ? null : this.store.credentials(dto.certificate, caller.scope);
    return TlsServer.create(
      {
        certificateId: dto.certificate ?? null,
        credentials,
        alpn: dto.alpn ?? [],
        minVersion: dto.minVersion,
        maxVersion: dto.maxVersion,
        requestClientCert: dto.requestClientCert,
        clientCa: dto.clientCa ?? null,
        handshakeTimeoutMs: this.settings.tlsHandshakeTimeoutMs,
      },
      this.minter,
      this.ca.certificatePem,
    );
  }

  /** The TLS side of a client connection: what it trusts, and the certificate (the caller's own) it presents. */
  clientFor(dto: ConnectionTlsRequestDto, caller: Caller): TlsClientOptions {
    let ca: string | null = null;
    if (dto.ca === 'instance') ca = this.ca.certificatePem;
    else if (dto.ca !== 'system') {
      assertCertificateBundle(dto.ca, 'tls.ca');
      ca = dto.ca;
    }
    return {
      servername: dto.servername ?? null,
      alpn: dto.alpn ?? [],
      ca,
      rejectUnauthorized: dto.rejectUnauthorized,
      clientCredentials: dto.clientCertificate === undefined ? null : this.store.credentials(dto.clientCertificate, caller.scope),
      handshakeTimeoutMs: this.settings.tlsHandshakeTimeoutMs,
    };
  }

  /**
   * STARTTLS on a connection the caller holds, in the role asked for. A failed handshake closes
   * the connection and is refused as for a TLS client connection (the server role: always
   * `TLS_HANDSHAKE_FAILED`).
   */
  async startTls(connection: TcpConnection, dto: StartTlsDto, caller: Caller): Promise<void> {
    if (dto.role === 'server') {
      const server = this.starttlsServerOf(connection) ?? (await this.serverFor(dto, caller));
      const { outcome } = await this.registry.startTls(connection, dto.inOffset, (stream, base, offsets) => server.accept(stream, base, offsets));
      if (!outcome.established) throw new TlsError('TLS_HANDSHAKE_FAILED', `the TLS handshake failed: ${outcome.reason}`, { reason: outcome.reason });
      return;
    }
    const options = this.clientFor({ mode: 'implicit', ...dto }, caller);
    const host = dto.servername ?? connection.remote?.address ?? '';
    const { outcome } = await this.registry.startTls(connection, dto.inOffset, (stream, base, offsets) => beginTlsClient(stream, base, host, options, offsets));
    if (!outcome.established) throw clientRefusal(outcome.error, outcome.reason, host);
  }

  /** The settings of the `starttls` listener that accepted the connection, which its server role takes. */
  private starttlsServerOf(connection: TcpConnection): TlsServer | null {
    const listener = connection.listenerId === null ? undefined : this.registry.find(connection.listenerId);
    return listener?.kind === 'tcp-listener' && listener.options.tls?.mode === 'starttls' ? listener.options.tls.server : null;
  }

  listCertificates(query: ListCertificatesQueryDto, caller: Caller): CertificatePageDto {
    const page = this.store.list(caller.scope, query.limit, query.cursor);
    return { items: page.items.map(toCertificateDto), nextCursor: page.nextCursor };
  }

  getCertificate(id: string, caller: Caller): CertificateDto {
    return toCertificateDto(this.store.get(id, caller.scope));
  }

  deleteCertificate(id: string, caller: Caller): CertificateDto {
    return toCertificateDto(this.store.remove(id, caller.scope));
  }
}

type CertificateCreation = { generate: GenerateCertificateDto; upload?: undefined } | { generate?: undefined; upload: CertificateUpload };

/**
 * The body is an upload or a generate request, not both and not neither: a rule across fields,
 * which the route schema (one schema per field) does not state. Refused as the schema would
 * refuse it, naming each field at fault.
 */
function uploadOrGenerate(dto: CreateCertificateDto): CertificateCreation {
  const { certificate, privateKey, chain, generate } = dto;
  if (generate) {
    const extra = (['certificate', 'privateKey', 'chain'] as const).filter((field) => dto[field] !== undefined);
    if (extra.length === 0) return { generate };
    throw invalid(extra.map((field) => ({ field, message: `${field} cannot come with generate: send an upload or a generate request` })));
  }
  if (certificate !== undefined && privateKey !== undefined) return { upload: { certificate, privateKey, chain } };
  const missing = (['certificate', 'privateKey'] as const).filter((field) => dto[field] === undefined);
  throw invalid(missing.map((field) => ({ field, message: `${field} (PEM) is needed unless generate is given` })));
}

function invalid(errors: FieldError[]): ApiProblem {
  return new ApiProblem('VALIDATION_FAILED', errors.map((e) => e.message).join('; '), {}, errors);
}
