import { timingSafeEqual } from 'node:crypto';
import { ApiKey, sha256 } from '../config/api-keys';

/**
 * Finds the key a bearer token belongs to. The token's digest is compared with every key's
 * in constant time and without stopping at a match, so timing tells nothing about the secrets.
 */
export function findApiKey(keys: readonly ApiKey[], token: string): ApiKey | null {
  const digest = sha256(token);
  let found: ApiKey | null = null;
  for (const key of keys) {
    if (timingSafeEqual(key.digest, digest) && found === null) found = key;
  }
  return found;
}
