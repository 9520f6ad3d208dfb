import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from '../app.factory';
import { loadConfig } from '../config/app-config';
import { buildOpenApiDocument, toSortedJson } from './openapi';

/** `npm run openapi`: writes openapi/openapi.json from the code, without opening a port. */
async function writeOpenApi(): Promise<void> {
  const app = await createApp(loadConfig({ SOCKPLANE_LOG_LEVEL: 'silent' }));
  const target = join(__dirname, '..', '..', 'openapi', 'openapi.json');
  writeFileSync(target, toSortedJson(buildOpenApiDocument(app)));
  await app.close();
  console.log(`wrote ${target}`);
}

void writeOpenApi();
