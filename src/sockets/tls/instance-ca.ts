// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { KeyObject, X509Certificate, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { CertificateInfo, describeCertificate } from './certificate-info';
import { KeyType, generateKeyPair, signingAlgorithmOf, toPrivateKeyPem } from './keys';
import { SubjectAltName } from './server-name';
import { CaLoadError } from './tls-error';

const DAY_MS = 86_400_000;
/** Certificates start an hour in the past, so a peer whose clock is a little behind still accepts them. */
const BACKDATE_MS = 3_600_000;

export interface GenerateCaOptions {
  commonName?: string;
  validityDays?: number;
  keyType?: KeyType;
}

/** A certificate to issue. Its validity ends with the CA's at the latest. */
export interface IssueRequest {
  readonly commonName: string;
  readonly subjectAltNames: readonly SubjectAltName[];
  readonly validityDays: number;
  readonly keyType: KeyType;
}

/**
 * A certificate the CA issued and its new private key. It carries the key, so it goes to TLS
 * contexts and the certificate store's private part only, never into a representation.
 */
export interface IssuedCertificate {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  readonly info: CertificateInfo;
}

/**
 * The certificate authority of this service instance: generated in memory at start, or loaded
 * from PEM files. It signs the leaves listeners present and the certificates callers generate, so
 * a client that trusts its certificate (`GET /v1/tls/ca`) can reach any name. Its private key
 * lives in a private field: no getter, `JSON.stringify` or `util.inspect` reaches it.
 */
export class InstanceCa {
  readonly certificatePem: string;
  readonly info: CertificateInfo;
  readonly #certificate: x509.X509Certificate;
  readonly #signingKey: webcrypto.CryptoKey;
  readonly #signingAlgorithm: webcrypto.EcdsaParams | webcrypto.Algorithm;
  readonly #authorityKeyId: string;

  private constructor(certificate: x509.X509Certificate, signingKey: webcrypto.CryptoKey, signingAlgorithm: webcrypto.EcdsaParams | webcrypto.Algorithm, authorityKeyId: string) {
    this.#certificate = certificate;
    this.#signingKey = signingKey;
    this.#signingAlgorithm = signingAlgorithm;
    this.#authorityKeyId = authorityKeyId;
    this.certificatePem = certificate.toString('pem') + '\n';
    this.info = describeCertificate(new X509Certificate(this.certificatePem));
  }

  /** A new CA with a fresh key (EC P-256 unless asked otherwise); its name carries a random suffix so two instances' CAs are told apart in a trust store. */
  static async generate(options: GenerateCaOptions = {}): Promise<InstanceCa> {
    const keyType = options.keyType ?? 'ec-p256';
    const keys = await generateKeyPair(keyType);
    const commonName = options.commonName ?? `sockplane instance CA ${randomBytes(4).toString('hex')}`;
    const now = Date.now();
    const ski = await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto);
    const signingAlgorithm = signingAlgorithmOf(KeyObject.from(keys.privateKey));
    if (!signingAlgorithm) throw new CaLoadError(`cannot sign with a ${keyType} key`);
    const certificate = await x509.X509CertificateGenerator.createSelfSigned(
      {
        serialNumber: randomSerial(),
        name: [{ CN: [commonName] }, { O: ['sockplane'] }],
        notBefore: new Date(now - BACKDATE_MS),
        notAfter: new Date(now + (options.validityDays ?? 365) * DAY_MS),
        keys,
        signingAlgorithm: signingAlgorithm.signingAlgorithm,
        extensions: [
          new x509.BasicConstraintsExtension(true, 0, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
          ski,
        ],
      },
      webcrypto,
    );
    return new InstanceCa(certificate, keys.privateKey, signingAlgorithm.signingAlgorithm, ski.keyId);
  }

  /**
   * The CA of a certificate and its key in PEM. Refused unless the certificate is a CA that may
   * sign certificates, valid now, and the key is its own (unencrypted; RSA or ECDSA).
   */
  static async load(certificatePem: string, privateKeyPem: string, now: Date = new Date()): Promise<InstanceCa> {
    let nodeCertificate: X509Certificate;
    let certificate: x509.X509Certificate;
    try {
      nodeCertificate = new X509Certificate(certificatePem);
      certificate = new x509.X509Certificate(certificatePem);
    } catch (err) {
      throw new CaLoadError(`the CA certificate is not a PEM X.509 certificate: ${(err as Error).message}`);
    }
    if (!nodeCertificate.ca) throw new CaLoadError('the CA certificate is not a CA: its basicConstraints do not say CA:TRUE');
    const keyUsage = certificate.getExtension(x509.KeyUsagesExtension);
    if (keyUsage && (keyUsage.usages & x509.KeyUsageFlags.keyCertSign) === 0) {
      throw new CaLoadError('the CA certificate may not sign certificates: its keyUsage lacks keyCertSign');
    }
    if (nodeCertificate.validToDate < now) throw new CaLoadError(`the CA certificate expired on ${nodeCertificate.validToDate.toISOString()}`);
    if (nodeCertificate.validFromDate > now) throw new CaLoadError(`the CA certificate is not valid before ${nodeCertificate.validFromDate.toISOString()}`);
    let key: KeyObject;
    try {
      key = createPrivateKey(privateKeyPem);
    } catch (err) {
      // Node's message names the problem (a passphrase needed, an unknown format), never the key.
      throw new CaLoadError(`the CA key is not an unencrypted PEM private key: ${(err as Error).message}`);
    }
    if (!nodeCertificate.checkPrivateKey(key)) throw new CaLoadError('the CA key does not belong to the CA certificate: their public keys differ');
    const algorithm = signingAlgorithmOf(key);
    if (!algorithm) throw new CaLoadError(`the CA key is a ${key.asymmetricKeyType} key; an RSA or ECDSA (P-256, P-384, P-521) key is needed`);
    const signingKey = key.toCryptoKey(algorithm.importParams, false, ['sign']);
    // Leaves name the CA's key by its own subjectKeyIdentifier when it has one, so chain builders match them.
    const keyId = certificate.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId ?? (await x509.SubjectKeyIdentifierExtension.create(certificate.publicKey, false, webcrypto)).keyId;
    return new InstanceCa(certificate, signingKey, algorithm.signingAlgorithm, keyId);
  }

  /** `load` from the files the configuration names; an unreadable file is named in the error. */
  static async fromFiles(certificateFile: string, keyFile: string): Promise<InstanceCa> {
    const read = async (file: string, what: string): Promise<string> => {
      try {
        return await readFile(file, 'utf8');
      } catch (err) {
        throw new CaLoadError(`cannot read the CA ${what} file ${file}: ${(err as Error).message}`);
      }
    };
    const [certificatePem, keyPem] = await Promise.all([read(certificateFile, 'certificate'), read(keyFile, 'key')]);
    return InstanceCa.load(certificatePem, keyPem);
  }

  /** A new key pair and a certificate for it signed by this CA: a TLS server and client certificate for the given names. */
  async issue(request: IssueRequest, now: Date = new Date()): Promise<IssuedCertificate> {
    const keys = await generateKeyPair(request.keyType);
    const notAfter = Math.min(now.getTime() + request.validityDays * DAY_MS, this.info.validTo.getTime());
    const usages = x509.KeyUsageFlags.digitalSignature | (request.keyType === 'rsa-2048' ? x509.KeyUsageFlags.keyEncipherment : 0);
    const certificate = await x509.X509CertificateGenerator.create(
      {
        serialNumber: randomSerial(),
        subject: [{ CN: [request.commonName] }],
        issuer: this.#certificate.subjectName,
        notBefore: new Date(now.getTime() - BACKDATE_MS),
        notAfter: new Date(notAfter),
        publicKey: keys.publicKey,
        signingKey: this.#signingKey,
        signingAlgorithm: this.#signingAlgorithm,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(usages, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
          // An empty GeneralNames is invalid DER, so a certificate without names (a client's) has no SAN extension.
          ...(request.subjectAltNames.length > 0 ? [new x509.SubjectAlternativeNameExtension(request.subjectAltNames.map((san) => ({ type: san.type, value: san.value })))] : []),
          await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
          new x509.AuthorityKeyIdentifierExtension(this.#authorityKeyId),
        ],
      },
      webcrypto,
    );
    const certificatePem = certificate.toString('pem') + '\n';
    return { certificatePem, privateKeyPem: toPrivateKeyPem(keys.privateKey), info: describeCertificate(new X509Certificate(certificatePem)) };
  }
}

/** 16 random bytes with the top bit clear: serials are positive integers of at most 20 bytes (RFC 5280 4.1.2.2). */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] & 0x7f) | 0x01;
  return bytes.toString('hex');
}
