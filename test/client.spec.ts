import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLIENT_SCHEMA_PATH, generateClientSchema } from '../src/openapi/client-schema';

describe('clients/typescript/schema.ts', () => {
  it('is what openapi-typescript generates from openapi/openapi.json (run `npm run client`; `npm run openapi` runs it too)', async () => {
    const document = readFileSync(join(__dirname, '..', 'openapi', 'openapi.json'), 'utf8');
    expect(await generateClientSchema(document)).toBe(readFileSync(CLIENT_SCHEMA_PATH, 'utf8'));
  });
});
