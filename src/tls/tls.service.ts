import { Inject, Injectable } from '@nestjs/common';
import { Caller } from '../auth/caller';
import { CertificateStore } from '../sockets/tls/certificate-store';
import { InstanceCa } from '../sockets/tls/instance-ca';
import { CaDto, toCaDto } from './dto/ca.dto';
import { CertificateDto, CertificatePageDto, toCertificateDto } from './dto/certificate.dto';
import { CreateCertificateDto } from './dto/create-certificate.dto';
import { ListCertificatesQueryDto } from './dto/list-certificates.dto';
import { TLS_OPTIONS } from './tls.tokens';
import { TlsOptions } from './tls-options';

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
    @Inject(TLS_OPTIONS) private readonly options: TlsOptions,
  ) {}

  getCa(): CaDto {
    return toCaDto(this.ca, this.options.caCertFile === null ? 'generated' : 'files');
  }

  async createCertificate(dto: CreateCertificateDto, caller: Caller): Promise<CertificateDto> {
    const record = dto.generate
      ? await this.store.generate(dto.generate, caller.owner)
      : this.store.upload({ certificate: dto.certificate as string, privateKey: dto.privateKey as string, chain: dto.chain }, caller.owner);
    return toCertificateDto(record);
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
