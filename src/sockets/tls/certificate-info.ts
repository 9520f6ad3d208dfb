import ipaddr from 'ipaddr.js';
import { X509Certificate } from 'node:crypto';
import { TlsError } from './tls-error';

/** The public facts of a certificate, as representations show them. No key material, by construction. */
export interface CertificateInfo {
  /** The subject's attributes in certificate order, one line (`CN=example.test, O=Acme`). */
  readonly subject: string;
  readonly issuer: string;
  /** OpenSSL's spelling: `DNS:example.test`, `IP:127.0.0.1`, `email:…`, `URI:…`. */
  readonly subjectAltNames: readonly string[];
  /** Upper-case hex, as `openssl x509 -serial` prints it. */
  readonly serialNumber: string;
  /** SHA-256 of the DER, colon-separated upper-case hex, as `openssl x509 -fingerprint -sha256` prints it. */
  readonly fingerprint256: string;
  readonly validFrom: Date;
  readonly validTo: Date;
  readonly isCa: boolean;
}

/**
 * Node's parser (OpenSSL's) reads certificates rather than @peculiar/x509: a certificate this
 * accepts is one `tls.createSecureContext` accepts, and the facts match what a TLS peer reports
 * (`getPeerCertificate()` prints them the same way).
 */
export function describeCertificate(cert: X509Certificate): CertificateInfo {
  return {
    subject: oneLine(cert.subject),
    issuer: oneLine(cert.issuer),
    subjectAltNames: parseSubjectAltNames(cert.subjectAltName),
    serialNumber: cert.serialNumber.toUpperCase(),
    fingerprint256: cert.fingerprint256,
    validFrom: cert.validFromDate,
    validTo: cert.validToDate,
    isCa: cert.ca,
  };
}

/** Node prints a distinguished name one attribute a line; a representation wants one line. */
function oneLine(name: string): string {
  return name.split('\n').join(', ');
}

/** One `Type:value` of Node's subjectAltName; a value with a comma or quote comes JSON-quoted. */
const SAN_ENTRY = /([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g;

function parseSubjectAltNames(text: string | undefined): string[] {
  if (!text) return [];
  return [...text.matchAll(SAN_ENTRY)].map(([, type, raw]) => {
    const value = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
    // OpenSSL prints IPv6 addresses in full (0:0:0:0:0:0:0:1); callers write them compressed.
    if (type === 'IP Address') return `IP:${ipaddr.isValid(value) ? ipaddr.parse(value).toString() : value}`;
    return `${type}:${value}`;
  });
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * Every certificate in a PEM text, in order. Anything else in it (a key pasted by mistake,
 * truncated blocks) is refused rather than skipped, so what is stored is what was meant.
 */
export function parseCertificates(pem: string, field: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  const rest = pem.replace(PEM_CERTIFICATE, '').trim();
  if (blocks.length === 0 || rest.length > 0) {
    const what = rest.includes('-----BEGIN CERTIFICATE-----')
      ? 'holds a PEM certificate without its -----END CERTIFICATE----- line (truncated?)'
      : blocks.length === 0
        ? 'holds no PEM certificate (-----BEGIN CERTIFICATE-----)'
        : 'holds text besides its PEM certificates';
    throw new TlsError('CERTIFICATE_INVALID', `${field} ${what}`, { field });
  }
  return blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      const which = blocks.length > 1 ? `${field} certificate ${index + 1}` : field;
      throw new TlsError('CERTIFICATE_INVALID', `${which} is not a valid X.509 certificate: ${(err as Error).message}`, { field });
    }
  });
}
