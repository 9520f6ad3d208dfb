import { KeyObject, X509Certificate, createPrivateKey, randomBytes } from 'node:crypto';
import { SecureContext, createSecureContext } from 'node:tls';
import { Page, paginate } from '../pagination';
import { CertificateInfo, describeCertificate, parseCertificates } from './certificate-info';
import { InstanceCa } from './instance-ca';
import { KeyType } from './keys';
import { TlsCredentials } from './leaf-minter';
import { SubjectAltName, toSubjectAltName } from './server-name';
import { TlsError } from './tls-error';

export interface CertificateStoreOptions {
  /** Certificates held at once, uploaded and generated together. */
  readonly maxCertificates: number;
  /** Bytes of PEM one upload may carry (certificate, key and chain together). */
  readonly maxPemBytes: number;
  /** Whether callers may upload their own certificates and keys; generating is always allowed. */
  readonly allowUploads: boolean;
}

/** A certificate and key made elsewhere, in PEM. `certificate` may carry its chain after it (a fullchain.pem). */
export interface CertificateUpload {
  readonly certificate: string;
  readonly privateKey: string;
  /** Intermediate certificates, the leaf's issuer first. */
  readonly chain?: string;
}

/** A certificate for the instance CA to issue. */
export interface CertificateRequest {
  readonly commonName: string;
  /** DNS names (a leading `*.` allowed) and IP literals; omitted, the common name when it is one. */
  readonly subjectAltNames?: readonly string[];
  readonly validityDays: number;
  readonly keyType: KeyType;
}

/**
 * What the store tells about a certificate: public facts only. The key is not a member, so no
 * representation built from this can carry it; `credentials()` is the one way to it.
 */
export interface StoredCertificate {
  readonly id: string;
  /** Creation order, for pagination. */
  readonly seq: number;
  readonly owner: string | null;
  readonly source: 'upload' | 'generated';
  /** The certificate itself in PEM: public, as every TLS handshake shows it. */
  readonly certificatePem: string;
  readonly info: CertificateInfo;
  /** The certificates presented after it, its issuer first. */
  readonly chain: readonly CertificateInfo[];
  /** `ec-p256`, `rsa-2048`, `ed25519`…: the key's algorithm and size, never the key. */
  readonly keyAlgorithm: string;
  readonly createdAt: Date;
}

/** A certificate's TLS material: its PEM credentials and the context built from them once. */
interface Secret {
  readonly credentials: TlsCredentials;
  readonly secureContext: SecureContext;
}

/**
 * The certificates callers uploaded or had the instance CA generate, for TLS listeners and
 * clients to present. Everything is held in memory only. Each belongs to the key that made it,
 * as sockets do: lookups outside the caller's scope answer not found.
 */
export class CertificateStore {
  private readonly records = new Map<string, StoredCertificate>();
  /** Kept apart from the records, so handing a record out never hands out its key. */
  readonly #secrets = new Map<string, Secret>();
  /** Generations under way, counted against the limit before their (slow) key generation. */
  private reserved = 0;
  private seq = 0;

  constructor(
    private readonly ca: InstanceCa,
    readonly options: CertificateStoreOptions,
  ) {}

  get size(): number {
    return this.records.size;
  }

  /**
   * Stores an uploaded certificate and key, after checking that both parse, that the key is the
   * certificate's (their public keys are the same), that the certificate is valid now, and that
   * each chain certificate issued the one before it.
   */
  upload(upload: CertificateUpload, owner: string | null, now: Date = new Date()): StoredCertificate {
    if (!this.options.allowUploads) {
      throw new TlsError('UPLOADS_DISABLED', 'certificate uploads are switched off on this service (SOCKPLANE_TLS_ALLOW_UPLOADS=false); generate one instead');
    }
    const size = Buffer.byteLength(upload.certificate) + Buffer.byteLength(upload.privateKey) + Buffer.byteLength(upload.chain ?? '');
    if (size > this.options.maxPemBytes) {
      throw new TlsError('BODY_TOO_LARGE', `the upload carries ${size} bytes of PEM; at most ${this.options.maxPemBytes} are taken`, { limit: 'maxPemBytes', max: this.options.maxPemBytes });
    }
    this.checkRoom();
    const [leaf, ...fromCertificate] = parseCertificates(upload.certificate, 'certificate');
    const chain = [...fromCertificate, ...(upload.chain === undefined ? [] : parseCertificates(upload.chain, 'chain'))];
    const key = parsePrivateKey(upload.privateKey);
    if (!leaf.checkPrivateKey(key)) {
      throw new TlsError('KEY_MISMATCH', 'privateKey does not belong to certificate: their public keys differ', { field: 'privateKey' });
    }
    if (leaf.validToDate < now) {
      throw new TlsError('CERTIFICATE_EXPIRED', `certificate expired on ${leaf.validToDate.toISOString()}`, { field: 'certificate', validTo: leaf.validToDate.toISOString() });
    }
    if (leaf.validFromDate > now) {
      throw new TlsError('CERTIFICATE_INVALID', `certificate is not valid before ${leaf.validFromDate.toISOString()}`, { field: 'certificate' });
    }
    checkChain([leaf, ...chain]);
    const credentials = { key: key.export({ type: 'pkcs8', format: 'pem' }).toString(), cert: [leaf, ...chain].map((c) => c.toString()).join('') };
    let secureContext: SecureContext;
    try {
      secureContext = createSecureContext(credentials);
    } catch (err) {
      // OpenSSL refuses what it will not serve (an RSA key under 2048 bits: "ee key too small").
      throw new TlsError('CERTIFICATE_INVALID', `TLS refuses this certificate and key: ${(err as Error).message}`, { field: 'certificate' });
    }
    return this.add('upload', leaf, chain, describeKey(key), { credentials, secureContext }, owner, now);
  }

  /** Has the instance CA issue a certificate with a new key pair, and stores it. */
  async generate(request: CertificateRequest, owner: string | null, now: Date = new Date()): Promise<StoredCertificate> {
    const sans = subjectAltNamesOf(request);
    this.checkRoom();
    this.reserved++;
    try {
      const issued = await this.ca.issue({ commonName: request.commonName, subjectAltNames: sans, validityDays: request.validityDays, keyType: request.keyType }, now);
      const credentials = { key: issued.privateKeyPem, cert: issued.certificatePem };
      const secret = { credentials, secureContext: createSecureContext(credentials) };
      return this.add('generated', new X509Certificate(issued.certificatePem), [], request.keyType, secret, owner, now);
    } finally {
      this.reserved--;
    }
  }

  /** The certificate `id`, if the caller's scope (null: every owner) holds it. */
  get(id: string, scope: string | null): StoredCertificate {
    const record = this.records.get(id);
    if (!record || (scope !== null && record.owner !== scope)) throw new TlsError('CERTIFICATE_NOT_FOUND', `no certificate with id ${id}`);
    return record;
  }

  list(scope: string | null, limit: number, cursor?: string): Page<StoredCertificate> {
    return paginate(this.records.values(), (record) => scope === null || record.owner === scope, limit, cursor);
  }

  /** Forgets the certificate and its key; listeners already presenting it keep their context. */
  remove(id: string, scope: string | null): StoredCertificate {
    const record = this.get(id, scope);
    this.records.delete(id);
    this.#secrets.delete(id);
    return record;
  }

  /** The PEM key and certificate chain, for a TLS listener's or client's options. Never for a representation. */
  credentials(id: string, scope: string | null): TlsCredentials {
    return this.secretOf(id, scope).credentials;
  }

  /** A SecureContext presenting the certificate, built once at upload. */
  secureContext(id: string, scope: string | null): SecureContext {
    return this.secretOf(id, scope).secureContext;
  }

  private secretOf(id: string, scope: string | null): Secret {
    this.get(id, scope);
    return this.#secrets.get(id) as Secret;
  }

  private checkRoom(): void {
    if (this.records.size + this.reserved >= this.options.maxCertificates) {
      throw new TlsError('QUOTA_EXCEEDED', `the service holds ${this.options.maxCertificates} certificates, its limit; delete one first`, { limit: 'maxCertificates', max: this.options.maxCertificates });
    }
  }

  private add(
    source: StoredCertificate['source'],
    leaf: X509Certificate,
    chain: readonly X509Certificate[],
    keyAlgorithm: string,
    secret: Secret,
    owner: string | null,
    now: Date,
  ): StoredCertificate {
    const seq = ++this.seq;
    // The sequence keeps ids unique for the life of the process; the random part keeps them unguessable.
    const id = `ct_${seq.toString(16).padStart(6, '0')}${randomBytes(5).toString('hex')}`;
    const record: StoredCertificate = { id, seq, owner, source, certificatePem: leaf.toString(), info: describeCertificate(leaf), chain: chain.map(describeCertificate), keyAlgorithm, createdAt: now };
    this.records.set(id, record);
    this.#secrets.set(id, secret);
    return record;
  }
}

function parsePrivateKey(pem: string): KeyObject {
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    // Not quoting the PEM label: no answer or log line contains "PRIVATE KEY", so leaked-key scanners stay quiet.
    throw new TlsError('PRIVATE_KEY_INVALID', 'privateKey holds no PEM-encoded private key', { field: 'privateKey' });
  }
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(pem)) {
    throw new TlsError('PRIVATE_KEY_INVALID', 'privateKey is encrypted; upload it unencrypted (openssl pkey -in key.pem -out plain.pem)', { field: 'privateKey' });
  }
  try {
    return createPrivateKey(pem);
  } catch (err) {
    // Node's message names what is wrong with the key, never the key itself.
    throw new TlsError('PRIVATE_KEY_INVALID', `privateKey is not a valid PEM private key: ${(err as Error).message}`, { field: 'privateKey' });
  }
}

/** Each certificate must be issued, and signed, by the next one. */
function checkChain(certificates: readonly X509Certificate[]): void {
  for (let i = 0; i + 1 < certificates.length; i++) {
    const [subject, issuer] = [certificates[i], certificates[i + 1]];
    if (!subject.checkIssued(issuer) || !subject.verify(issuer.publicKey)) {
      const what = i === 0 ? 'the certificate' : `chain certificate ${i}`;
      throw new TlsError('CERTIFICATE_INVALID', `chain certificate ${i + 1} (${issuer.subject.split('\n').join(', ')}) did not issue ${what}`, { field: 'chain' });
    }
  }
}

const CURVE_NAMES: Record<string, string> = { prime256v1: 'p256', secp384r1: 'p384', secp521r1: 'p521' };

function describeKey(key: KeyObject): string {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa' && details?.modulusLength) return `rsa-${details.modulusLength}`;
  if (key.asymmetricKeyType === 'ec' && details?.namedCurve) return `ec-${CURVE_NAMES[details.namedCurve] ?? details.namedCurve}`;
  return key.asymmetricKeyType ?? 'unknown';
}

function subjectAltNamesOf(request: CertificateRequest): SubjectAltName[] {
  if (request.subjectAltNames) {
    return request.subjectAltNames.map((name, index) => toSubjectAltName(name, { wildcard: true, field: `subjectAltNames.${index}` }));
  }
  // A common name that is a host name or address is what clients will check, so it becomes the SAN they read.
  try {
    return [toSubjectAltName(request.commonName, { wildcard: true, field: 'commonName' })];
  } catch {
    return [];
  }
}
