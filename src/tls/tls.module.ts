import { DynamicModule, Global, Module } from '@nestjs/common';
import { CertificateStore } from '../sockets/tls/certificate-store';
import { InstanceCa } from '../sockets/tls/instance-ca';
import { LeafMinter } from '../sockets/tls/leaf-minter';
import { CaLoadError } from '../sockets/tls/tls-error';
import { TlsController } from './tls.controller';
import { TlsService } from './tls.service';
import { TLS_OPTIONS } from './tls.tokens';
import { DEFAULT_TLS_OPTIONS, TlsOptions } from './tls-options';

/**
 * The instance CA, the leaf minter and the certificate store, made once at start and exported
 * for the TLS listeners and clients, with the `/v1/tls` routes. A CA that cannot be loaded stops
 * the start: serving TLS under a CA other than the one configured would be worse.
 */
@Global()
@Module({})
export class TlsModule {
  static forRoot(options: Partial<TlsOptions> = {}): DynamicModule {
    const settings: TlsOptions = { ...DEFAULT_TLS_OPTIONS, ...options };
    return {
      module: TlsModule,
      controllers: [TlsController],
      providers: [
        { provide: TLS_OPTIONS, useValue: settings },
        { provide: InstanceCa, useFactory: () => loadInstanceCa(settings) },
        {
          provide: LeafMinter,
          inject: [InstanceCa],
          useFactory: (ca: InstanceCa) => new LeafMinter(ca, { cacheSize: settings.leafCacheSize, validityDays: settings.leafValidityDays, keyType: settings.leafKeyType }),
        },
        {
          provide: CertificateStore,
          inject: [InstanceCa],
          useFactory: (ca: InstanceCa) => new CertificateStore(ca, { maxCertificates: settings.maxCertificates, maxPemBytes: settings.maxPemBytes, allowUploads: settings.allowUploads }),
        },
        TlsService,
      ],
      exports: [InstanceCa, LeafMinter, CertificateStore],
    };
  }
}

function loadInstanceCa(options: TlsOptions): Promise<InstanceCa> {
  const { caCertFile, caKeyFile } = options;
  if (caCertFile !== null && caKeyFile !== null) return InstanceCa.fromFiles(caCertFile, caKeyFile);
  if (caCertFile !== null || caKeyFile !== null) {
    return Promise.reject(new CaLoadError('name both SOCKPLANE_TLS_CA_CERT_FILE and SOCKPLANE_TLS_CA_KEY_FILE, or neither (a CA generated at start)'));
  }
  return InstanceCa.generate({ validityDays: options.caValidityDays });
}
