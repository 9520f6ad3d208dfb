import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLIENT_SCHEMA_PATH, generateClientSchema } from './client-schema';

/** `npm run client`: writes clients/typescript/schema.ts from the committed openapi/openapi.json. */
async function writeClient(): Promise<void> {
  const document = readFileSync(join(__dirname, '..', '..', 'openapi', 'openapi.json'), 'utf8');
  writeFileSync(CLIENT_SCHEMA_PATH, await generateClientSchema(document));
  console.log(`wrote ${CLIENT_SCHEMA_PATH}`);
}

void writeClient();
