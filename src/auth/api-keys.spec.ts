import { createHash } from 'node:crypto';
import { parseApiKeys } from '../config/api-keys';
import { findApiKey } from './api-keys';

describe('API keys', () => {
  const keys = parseApiKeys('alice:alice-secret-0123456789,bob:bob-secret-0123456789:admin,anonymous-secret-0123');

  it('keeps the digest of each secret, never the secret', () => {
    expect(keys[0]).toEqual({ name: 'alice', admin: false, digest: createHash('sha256').update('alice-secret-0123456789').digest() });
    expect(keys[2].name).toBe(`key-${createHash('sha256').update('anonymous-secret-0123').digest('hex').slice(0, 12)}`);
  });

  it('finds the key a token belongs to, and none for anything else', () => {
    expect(findApiKey(keys, 'alice-secret-0123456789')?.name).toBe('alice');
    expect(findApiKey(keys, 'bob-secret-0123456789')).toMatchObject({ name: 'bob', admin: true });
    for (const wrong of ['', 'alice-secret-012345678', 'alice-secret-0123456789 ', 'ALICE-SECRET-0123456789', 'alice']) {
      expect(findApiKey(keys, wrong)).toBeNull();
    }
  });

  it('skips comments and blank lines, so a key file can explain itself', () => {
    expect(parseApiKeys('# keys\n\n  carol:carol-secret-0123456789  \n').map((k) => k.name)).toEqual(['carol']);
  });

  it('never repeats a secret in its error messages', () => {
    expect(() => parseApiKeys('alice:has space in it 0123456789')).toThrow(/^((?!has space).)*$/);
  });
});
