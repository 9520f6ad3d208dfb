import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

/** The instructions of the last stage: what the image runs. */
const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));

// No Docker engine runs here: these checks keep the image in step with the npm scripts.
describe('Dockerfile', () => {
  it('builds with `npm run build` on Node 24 and keeps only production dependencies', () => {
    expect(dockerfile.match(/^FROM node:24[\w.-]*/gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/^RUN npm ci\b.*$/m);
    expect(dockerfile).toMatch(/^RUN npm run build && npm prune --omit=dev$/m);
    expect(scripts.build).toBe('nest build');
  });

  it('runs what `npm start` runs, in exec form, as a non-root user', () => {
    const cmd = /^CMD (\[.*\])$/m.exec(runtime);
    expect(JSON.parse(cmd?.[1] ?? 'null')).toEqual(scripts.start.split(' '));
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime.indexOf('USER node')).toBeLessThan(runtime.indexOf('CMD '));
  });

  it('checks its health on /health/live', () => {
    expect(runtime).toMatch(/^HEALTHCHECK .*\\\n\s+CMD \[.*\/health\/live.*\]$/m);
  });

  it('.dockerignore keeps local installs, builds and secrets out of the context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.env', '.git']));
  });
});
