import { KeyType } from '../sockets/tls/keys';

/**
 * The TLS settings. The configuration maps them from the environment (docs/tls.md names the
 * variables); `TlsModule.forRoot` fills in the defaults for any left out.
 */
export interface TlsOptions {
  /** PEM file of the instance CA's certificate (`SOCKPLANE_TLS_CA_CERT_FILE`); null with `caKeyFile`: a CA generated at start. */
  readonly caCertFile: string | null;
  /** PEM file of its private key, unencrypted (`SOCKPLANE_TLS_CA_KEY_FILE`). */
  readonly caKeyFile: string | null;
  /** Whether `POST /v1/tls/certificates` takes uploaded keys (`SOCKPLANE_TLS_ALLOW_UPLOADS`); generating stays allowed. */
  readonly allowUploads: boolean;
  /** Server names whose minted leaves are kept (`SOCKPLANE_TLS_LEAF_CACHE_SIZE`). */
  readonly leafCacheSize: number;
  /** Days a minted leaf is valid (`SOCKPLANE_TLS_LEAF_VALIDITY_DAYS`); it is minted again before it ends. */
  readonly leafValidityDays: number;
  /** Key type of minted leaves (`SOCKPLANE_TLS_LEAF_KEY_TYPE`). */
  readonly leafKeyType: KeyType;
  /** Days a generated instance CA is valid (`SOCKPLANE_TLS_CA_VALIDITY_DAYS`). */
  readonly caValidityDays: number;
  /** Certificates the store holds at once (`SOCKPLANE_TLS_MAX_CERTIFICATES`). */
  readonly maxCertificates: number;
  /** PEM bytes one upload may carry (`SOCKPLANE_TLS_MAX_PEM_BYTES`). */
  readonly maxPemBytes: number;
}

export const DEFAULT_TLS_OPTIONS: TlsOptions = {
  caCertFile: null,
  caKeyFile: null,
  allowUploads: true,
  leafCacheSize: 1000,
  leafValidityDays: 30,
  leafKeyType: 'ec-p256',
  caValidityDays: 365,
  maxCertificates: 1000,
  maxPemBytes: 65_536,
};
