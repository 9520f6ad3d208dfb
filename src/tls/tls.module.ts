import { DynamicModule, Module } from '@nestjs/common';
import { TlsSettings } from '../config/app-config';
import { CertificateStore } from '../sockets/tls/certificate-store';
import { InstanceCa } from '../sockets/tls/instance-ca';
import { LeafMinter } from '../sockets/tls/leaf-minter';
import { TlsController } from './tls.controller';
import { TlsService } from './tls.service';

/**
 * The instance CA, the leaf minter and the certificate store, exported for the TLS listeners and
 * clients, with the `/v1/tls` routes. The CA comes loaded (`loadInstanceCa`), so that one that
 * cannot be used stops the start before Nest does anything, with one line naming the problem.
 */
@Module({})
export class TlsModule {
  static forRoot(ca: InstanceCa): DynamicModule {
    return {
      module: TlsModule,
      // The TCP listeners and connections present and check certificates from these.
      global: true,
      controllers: [TlsController],
      providers: [
        { provide: InstanceCa, useValue: ca },
        {
          provide: LeafMinter,
          inject: [TlsSettings],
          useFactory: (settings: TlsSettings) =>
            new LeafMinter(ca, { cacheSize: settings.tlsLeafCacheSize, validityDays: settings.tlsLeafValidityDays, keyType: settings.tlsLeafKeyType }),
        },
        {
          provide: CertificateStore,
          inject: [TlsSettings],
          useFactory: (settings: TlsSettings) =>
            new CertificateStore(ca, { maxCertificates: settings.tlsMaxCertificates, maxPemBytes: settings.tlsMaxPemBytes, allowUploads: settings.tlsAllowUploads }),
        },
        TlsService,
      ],
      exports: [InstanceCa, LeafMinter, CertificateStore, TlsService],
    };
  }
}

/**
 * The instance CA the settings name: loaded from its files, or generated. The configuration
 * checked that both files are named or neither.
 */
export function loadInstanceCa(settings: Pick<TlsSettings, 'tlsCaCertFile' | 'tlsCaKeyFile' | 'tlsCaValidityDays'>): Promise<InstanceCa> {
  const { tlsCaCertFile, tlsCaKeyFile } = settings;
  if (tlsCaCertFile !== null && tlsCaKeyFile !== null) return InstanceCa.fromFiles(tlsCaCertFile, tlsCaKeyFile);
  return InstanceCa.generate({ validityDays: settings.tlsCaValidityDays });
}
