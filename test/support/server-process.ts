import { transformFileSync } from '@swc/core';
import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { nextOutputOrExit } from './child-output';

const ROOT = join(__dirname, '..', '..');

/**
 * Compiles `src/` the way Jest does (swc, decorators with metadata) into a temporary folder and
 * returns it: the real `main.js`, without `nest build` (slow, and it would replace `dist/`).
 */
export function compileServer(): string {
  // Inside the repository (git-ignored), so the compiled files resolve node_modules the normal
  // way: through NODE_PATH, Nest's ESM packages would load twice and their classes not match.
  mkdirSync(join(ROOT, 'test-output'), { recursive: true });
  const out = mkdtempSync(join(ROOT, 'test-output', 'server-'));
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)]));
  for (const file of walk(join(ROOT, 'src')).filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))) {
    const { code } = transformFileSync(file, {
      jsc: { parser: { syntax: 'typescript', decorators: true }, transform: { legacyDecorator: true, decoratorMetadata: true }, target: 'es2023' },
      module: { type: 'commonjs' },
    });
    const target = join(out, relative(join(ROOT, 'src'), file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, code);
  }
  return out;
}

export interface ServerProcess {
  readonly process: ChildProcessWithoutNullStreams;
  readonly url: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Runs the compiled `main.js` in its own process under `ulimit -n`, on a free port, and resolves
 * once it printed the address it listens on.
 */
export async function startServerProcess(compiled: string, env: Record<string, string>, openFiles: number): Promise<ServerProcess> {
  const child = spawn('bash', ['-c', `ulimit -n ${openFiles} && exec node main.js`], {
    cwd: compiled,
    env: { PATH: process.env.PATH ?? '', PORT: '0', ...env },
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
  for (;;) {
    const match = /listening on (http:\/\/[^\s"]+)/.exec(output);
    if (match) {
      return {
        process: child,
        url: match[1],
        output: () => output,
        stop: async () => {
          if (child.exitCode === null) {
            child.kill('SIGTERM');
            await once(child, 'exit');
          }
        },
      };
    }
    if (child.exitCode !== null) throw new Error(`the server exited before listening:\n${output}`);
    await nextOutputOrExit(child);
  }
}

export function removeCompiled(compiled: string): void {
  rmSync(compiled, { recursive: true, force: true });
}
