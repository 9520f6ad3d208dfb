// `npm run test:browser`: Swagger UI driven in Debian's Chromium. Same transform as `npm test`
// (package.json "jest"), its own files, one at a time: a browser is heavier than an HTTP client.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const { jest: base } = JSON.parse(readFileSync(join(import.meta.dirname, 'package.json'), 'utf8'));

export default {
  ...base,
  testMatch: ['<rootDir>/test/browser/**/*.browser.ts'],
  testTimeout: 120000,
  maxWorkers: 1,
};
