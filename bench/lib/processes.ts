import { ChildProcess, fork, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { BaselineCommand, BaselineCommands, BaselineReply } from './baseline-protocol';
import { HttpClient } from './http';

export const REPO_ROOT = join(__dirname, '..', '..');
export const LOOPBACK = '127.0.0.1';
/** USER_HZ: the unit of the CPU times in /proc/<pid>/stat, 100 on Linux. */
const CLOCK_TICKS = 100;

/** A free loopback port: main.ts does not print the port it bound, so the bench picks one. */
export function freePort(host = LOOPBACK): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host, port: 0 }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Runs `nest build` when dist/ is missing or older than a file under src/. */
export function ensureBuilt(log: (line: string) => void): void {
  const main = join(REPO_ROOT, 'dist', 'main.js');
  if (existsSync(main) && statSync(main).mtimeMs >= newestMtime(join(REPO_ROOT, 'src'))) return;
  log('building the service (nest build)…');
  const result = spawnSync(join(REPO_ROOT, 'node_modules', '.bin', 'nest'), ['build'], { cwd: REPO_ROOT, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`nest build failed (exit ${result.status})`);
}

/** Resident set size of a process, from /proc (Linux). */
export function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

/** CPU time (user + system) a process has used, in seconds, from /proc (Linux). */
export function cpuSeconds(pid: number): number {
  const { user, system } = cpuTimes(pid);
  return user + system;
}

/** The CPU time a process has used in its own code (user) and in the kernel's (system), in seconds, from /proc (Linux). */
export function cpuTimes(pid: number): { user: number; system: number } {
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return { user: Number(fields[11]) / CLOCK_TICKS, system: Number(fields[12]) / CLOCK_TICKS };
}

/**
 * Runs `work` with every thread of the processes `pids` on one CPU (the first this process may
 * use), then gives them back the CPUs this process had (util-linux `taskset`). `pinned` is
 * false, and `work` ran unpinned, where taskset is missing or refused.
 */
export async function onOneCpu<T>(pids: number[], work: () => Promise<T>): Promise<{ pinned: boolean; result: T }> {
  const allowed = /^Cpus_allowed_list:\s+(\S+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  const first = allowed?.split(/[,-]/)[0];
  const pin = (list: string): boolean =>
    pids.map((pid) => spawnSync('taskset', ['-a', '-p', '-c', list, String(pid)], { stdio: 'ignore' }).status === 0).every(Boolean);
  const pinned = allowed !== undefined && first !== undefined && pin(first);
  try {
    return { pinned, result: await work() };
  } finally {
    if (allowed !== undefined) pin(allowed);
  }
}

/** Descriptors this process may open (children inherit the same limit). */
export function openFileLimit(): number {
  const match = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  return match ? Number(match[1]) : 1024;
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export interface Service {
  pid: number;
  client: HttpClient;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  env: Record<string, string>;
  /** Extra node flags, e.g. `--cpu-prof` when profiling. */
  nodeArgs: string[];
  /** The loopback address it listens on (the cluster scenario runs nodes on 127.0.0.2–4); 127.0.0.1 by default. */
  host?: string;
}

/** What `npm start` passes to node (its flags and `dist/main.js`), so the bench runs the service as it is run. */
function startArguments(): string[] {
  const { scripts } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const [command, ...args] = scripts.start.split(' ');
  if (command !== 'node') throw new Error(`npm start runs ${command}, not node: the bench cannot start the service as it does`);
  return args;
}

/** Starts the built service as `npm start` does, on a free loopback port, and waits until it answers. */
export async function startService(options: ServiceOptions): Promise<Service> {
  const host = options.host ?? LOOPBACK;
  const port = await freePort(host);
  const child = spawn(process.execPath, [...options.nodeArgs, ...startArguments()], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env, HOST: host, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  const client = new HttpClient(host, port);
  const stop = async (): Promise<void> => {
    client.close();
    child.kill('SIGTERM');
    await waitForExit(child, 15_000);
  };
  const deadline = performance.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the service exited (${child.exitCode}) before answering:\n${stderr}`);
    const live = await client.send('GET', '/health/live').catch(() => null);
    if (live?.status === 200) break;
    if (performance.now() > deadline) {
      await stop();
      throw new Error(`the service did not answer within 30 s:\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { pid: child.pid ?? 0, client, stop };
}

/** The baseline process (bare Fastify, raw net and dgram), driven over IPC. */
export class Baseline {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();

  private constructor(
    private readonly child: ChildProcess,
    readonly httpPort: number,
  ) {
    child.on('message', (message: BaselineReply) => {
      if ('ready' in message) return;
      const waiter = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.ok) waiter?.resolve(message.result);
      else waiter?.reject(new Error(message.error));
    });
  }

  static async start(): Promise<Baseline> {
    const child = fork(join(__dirname, '..', 'baseline-server.js'), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const httpPort = await new Promise<number>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the baseline process exited (${code}) before it was ready`)));
      child.on('message', (message: BaselineReply) => {
        if ('ready' in message) resolve(message.httpPort);
      });
    });
    child.removeAllListeners('exit');
    return new Baseline(child, httpPort);
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  call<K extends BaselineCommand>(command: K, args: BaselineCommands[K]['args']): Promise<BaselineCommands[K]['result']> {
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: (value) => resolve(value as BaselineCommands[K]['result']), reject });
      this.child.send({ id, command, args });
    });
  }

  async stop(): Promise<void> {
    this.child.disconnect();
    await waitForExit(this.child, 5_000);
  }
}
