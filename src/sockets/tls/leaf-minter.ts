import { SecureContext, createSecureContext } from 'node:tls';
import { CertificateInfo } from './certificate-info';
import { InstanceCa } from './instance-ca';
import { KeyType } from './keys';
import { SubjectAltName, toSubjectAltName } from './server-name';
import { TlsError } from './tls-error';

const DAY_MS = 86_400_000;

export interface LeafMinterOptions {
  /** Names whose leaves are kept; the least recently used goes first. */
  readonly cacheSize: number;
  readonly validityDays: number;
  readonly keyType: KeyType;
}

/** What `tls.createServer` and `tls.createSecureContext` take: PEM, the chain after the leaf in `cert`. Secret: never into a representation. */
export interface TlsCredentials {
  readonly key: string;
  readonly cert: string;
}

/** A leaf minted for some names: its public facts, and a ready context for a TLS socket. */
export interface MintedLeaf {
  readonly names: readonly string[];
  readonly info: CertificateInfo;
  readonly secureContext: SecureContext;
  readonly credentials: TlsCredentials;
}

/** The callback `tls.createServer({ SNICallback })` and `new tls.TLSSocket(…, { SNICallback })` call. */
export type SniCallback = (servername: string, callback: (err: Error | null, context?: SecureContext) => void) => void;

/**
 * The names a listener answers with when the client sends no SNI: clients that dial an IP
 * literal send none (RFC 6066 forbids it), and loopback is where tests dial.
 */
export const DEFAULT_LEAF_NAMES: readonly string[] = ['localhost', '127.0.0.1', '::1'];

/**
 * Mints leaf certificates signed by the instance CA for the names TLS clients ask for, so one
 * trusted CA reaches any name. Leaves are cached by name (least recently used evicted first)
 * with their SecureContext, since building one costs about as much as the handshake; concurrent
 * asks for a name not yet cached share one mint; a leaf near its end is minted again.
 */
export class LeafMinter {
  /** Pending and finished mints by cache key, oldest use first (a Map keeps insertion order). */
  private readonly cache = new Map<string, Promise<MintedLeaf>>();
  private mints = 0;
  private hits = 0;

  constructor(
    private readonly ca: InstanceCa,
    readonly options: LeafMinterOptions,
  ) {}

  /**
   * The leaf for `names` (one SNI name, or several for a listener's default): DNS names and IP
   * literals get the SAN type clients check them against. The first name is the subject's CN.
   * Throws `INVALID_SERVER_NAME` for a name that is neither.
   */
  async mint(names: string | readonly string[]): Promise<MintedLeaf> {
    const sans = (typeof names === 'string' ? [names] : names).map((name) => toSubjectAltName(name));
    if (sans.length === 0) throw new TlsError('INVALID_SERVER_NAME', 'a leaf needs at least one name', { field: 'servername' });
    const key = sans.map((san) => `${san.type}:${san.value}`).join(',');
    const cached = this.cache.get(key);
    if (cached) {
      this.cache.delete(key);
      this.cache.set(key, cached);
      this.hits++;
      return cached.then((leaf) => (this.isFresh(leaf) ? leaf : this.replace(key, sans, cached)));
    }
    return this.start(key, sans);
  }

  /** The SecureContext for one server name; what `sniCallback` answers with. */
  async secureContext(servername: string): Promise<SecureContext> {
    return (await this.mint(servername)).secureContext;
  }

  /** An `SNICallback` that answers every valid name with its minted leaf, and fails the handshake for an invalid one. */
  readonly sniCallback: SniCallback = (servername, callback) => {
    this.secureContext(servername).then(
      (context) => callback(null, context),
      (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
    );
  };

  /** Names cached now, leaves minted so far, and cache hits (in-flight mints included). */
  get stats(): { cached: number; minted: number; hits: number } {
    return { cached: this.cache.size, minted: this.mints, hits: this.hits };
  }

  private start(key: string, sans: readonly SubjectAltName[]): Promise<MintedLeaf> {
    const pending = this.mintNow(sans);
    this.cache.set(key, pending);
    while (this.cache.size > this.options.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
    // A failed mint is forgotten, so the next ask tries again rather than failing forever.
    pending.catch(() => {
      if (this.cache.get(key) === pending) this.cache.delete(key);
    });
    return pending;
  }

  /** Replaces a stale leaf once, however many callers found it stale at the same time. */
  private replace(key: string, sans: readonly SubjectAltName[], stale: Promise<MintedLeaf>): Promise<MintedLeaf> {
    const current = this.cache.get(key);
    return current && current !== stale ? current : this.start(key, sans);
  }

  /** Fresh while more than a tenth of its validity (at most a day) is left, so no handshake meets an expiring leaf. */
  private isFresh(leaf: MintedLeaf): boolean {
    const lifetime = leaf.info.validTo.getTime() - leaf.info.validFrom.getTime();
    return leaf.info.validTo.getTime() - Date.now() > Math.min(lifetime / 10, DAY_MS);
  }

  private async mintNow(sans: readonly SubjectAltName[]): Promise<MintedLeaf> {
    const issued = await this.ca.issue({ commonName: sans[0].value, subjectAltNames: sans, validityDays: this.options.validityDays, keyType: this.options.keyType });
    this.mints++;
    const credentials = { key: issued.privateKeyPem, cert: issued.certificatePem };
    return { names: sans.map((san) => san.value), info: issued.info, secureContext: createSecureContext(credentials), credentials };
  }
}
