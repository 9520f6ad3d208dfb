import { KeyObject, webcrypto } from 'node:crypto';

export const KEY_TYPES = ['ec-p256', 'rsa-2048'] as const;
/** `ec-p256` by default: its key pairs take well under a millisecond, an RSA 2048 one tens of them. */
export type KeyType = (typeof KEY_TYPES)[number];

const GENERATE_PARAMS: Record<KeyType, webcrypto.EcKeyGenParams | webcrypto.RsaHashedKeyGenParams> = {
  'ec-p256': { name: 'ECDSA', namedCurve: 'P-256' },
  'rsa-2048': { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
};

/** A new key pair from Node's WebCrypto, extractable so the private half can become PEM for `tls`. */
export function generateKeyPair(type: KeyType): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(GENERATE_PARAMS[type], true, ['sign', 'verify']);
}

/** PKCS#8 PEM, the form `tls.createSecureContext({ key })` reads. */
export function toPrivateKeyPem(key: webcrypto.CryptoKey | KeyObject): string {
  const object = key instanceof KeyObject ? key : KeyObject.from(key);
  return object.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** How a CA key signs: the WebCrypto import parameters and the signature algorithm. */
export interface SigningAlgorithm {
  readonly importParams: webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams;
  readonly signingAlgorithm: webcrypto.EcdsaParams | webcrypto.Algorithm;
}

const CURVES: Record<string, { namedCurve: string; hash: string }> = {
  prime256v1: { namedCurve: 'P-256', hash: 'SHA-256' },
  secp384r1: { namedCurve: 'P-384', hash: 'SHA-384' },
  secp521r1: { namedCurve: 'P-521', hash: 'SHA-512' },
};

/** The signing algorithm for a CA key: RSA (PKCS#1 v1.5, SHA-256) or ECDSA on a NIST curve; undefined for any other key. */
export function signingAlgorithmOf(key: KeyObject): SigningAlgorithm | undefined {
  if (key.asymmetricKeyType === 'rsa') {
    return { importParams: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5' } };
  }
  const curve = key.asymmetricKeyType === 'ec' ? CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''] : undefined;
  if (!curve) return undefined;
  return { importParams: { name: 'ECDSA', namedCurve: curve.namedCurve }, signingAlgorithm: { name: 'ECDSA', hash: curve.hash } };
}
