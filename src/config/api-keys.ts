import { createHash } from 'node:crypto';

/** An API key as the service keeps it: its name and the SHA-256 digest of its secret, never the secret. */
export interface ApiKey {
  /** Owner of the sockets the key creates; shown to nobody but the logs. */
  readonly name: string;
  readonly digest: Buffer;
  /** An admin key sees and acts on every socket, whoever created it. */
  readonly admin: boolean;
}

export class ApiKeySyntaxError extends Error {
  override name = 'ApiKeySyntaxError';
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Printable ASCII without the separators (`,` between keys, `:` between fields) or spaces. */
const SECRET = /^[\x21-\x2b\x2d-\x39\x3b-\x7e]{16,256}$/;
const MIN_SECRET = 16;

/**
 * Parses keys written `secret`, `name:secret` or `name:secret:admin`, separated by commas or
 * new lines; blank lines and lines starting with `#` are skipped (for key files). A key given
 * without a name is named after its digest, so its sockets keep their owner across restarts.
 */
export function parseApiKeys(text: string): ApiKey[] {
  const entries = text
    .split(/[,\n]/)
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '' && !entry.startsWith('#'));
  return entries.map((entry, index) => parseEntry(entry, index + 1));
}

/** Refuses two keys with one name or one secret: ownership would be ambiguous. */
export function assertDistinct(keys: readonly ApiKey[]): void {
  const names = new Set<string>();
  const digests = new Set<string>();
  for (const key of keys) {
    if (names.has(key.name)) throw new ApiKeySyntaxError(`two keys are named "${key.name}"`);
    const digest = key.digest.toString('hex');
    if (digests.has(digest)) throw new ApiKeySyntaxError(`key "${key.name}" repeats the secret of another key`);
    names.add(key.name);
    digests.add(digest);
  }
}

function parseEntry(entry: string, position: number): ApiKey {
  const fields = entry.split(':');
  if (fields.length > 3) throw new ApiKeySyntaxError(`key ${position} has too many ":" (write secret, name:secret or name:secret:admin)`);
  const [first, second, scope] = fields;
  const secret = fields.length === 1 ? first : second;
  if (scope !== undefined && scope !== 'admin') throw new ApiKeySyntaxError(`key ${position} has scope "${scope}"; the only scope is "admin"`);
  if (fields.length > 1 && !NAME.test(first)) {
    throw new ApiKeySyntaxError(`key ${position} has a bad name "${first}" (1-64 letters, digits, . _ -, starting with a letter or digit)`);
  }
  if (secret.length < MIN_SECRET) throw new ApiKeySyntaxError(`key ${position} has a secret shorter than ${MIN_SECRET} characters`);
  if (!SECRET.test(secret)) throw new ApiKeySyntaxError(`key ${position} has a secret with characters other than printable ASCII (no spaces, "," or ":"), or longer than 256`);
  const digest = sha256(secret);
  const name = fields.length === 1 ? `key-${digest.toString('hex').slice(0, 12)}` : first;
  return { name, digest, admin: scope === 'admin' };
}

/** The SHA-256 digest keys are kept and compared by. */
export function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
