import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nextOutputOrExit } from './child-output';
import { ServerProcess, compileServer, removeCompiled, startServerProcess } from './server-process';

export const CLUSTER_SECRET = 'test-cluster-secret-0123456789';

/** The loopback addresses the three nodes of a test cluster run on, each its own "machine". */
export const NODE_HOSTS = ['127.0.0.2', '127.0.0.3', '127.0.0.4'] as const;

async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  server.listen(0, host);
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** A `redis-server` of the test's own: a free port, its own directory, nothing saved. */
export class RedisProcess {
  private child: ChildProcessWithoutNullStreams | null = null;
  private readonly dir = mkdtempSync(join(tmpdir(), 'sockplane-redis-'));

  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<RedisProcess> {
    const redis = new RedisProcess(await freePort());
    await redis.run();
    return redis;
  }

  /** Starts it again on the same port (after `stop`), empty, as a restarted Redis without persistence is. */
  async run(): Promise<void> {
    const child = spawn('/usr/bin/redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir]);
    this.child = child;
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
    while (!output.includes('Ready to accept connections')) {
      if (child.exitCode !== null) throw new Error(`redis-server exited:\n${output}`);
      await nextOutputOrExit(child);
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (child === null || child.exitCode !== null) return;
    child.kill('SIGKILL');
    await once(child, 'exit');
  }

  async remove(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A node of a test cluster: its process, API URL and the loopback address it runs on. */
export interface ClusterNode {
  readonly server: ServerProcess;
  readonly host: string;
  readonly url: string;
  readonly nodeId: string;
}

/** Settings that make a test cluster quick: a node missing three 1 s beats is lost within about 4 s, while a busy machine's late beat is no loss. */
export const FAST_CLUSTER = { SOCKPLANE_CLUSTER_HEARTBEAT_MS: '1000', SOCKPLANE_CLUSTER_LIST_DEADLINE_MS: '500' };

/** Starts a node on `host` in the cluster of `redisUrl`; resolves once it is listening. */
export async function startNode(compiled: string, host: string, redisUrl: string, env: Record<string, string> = {}): Promise<Omit<ClusterNode, 'nodeId'>> {
  const server = await startServerProcess(
    compiled,
    { HOST: host, SOCKPLANE_CLUSTER_REDIS_URL: redisUrl, SOCKPLANE_CLUSTER_SECRET: CLUSTER_SECRET, SOCKPLANE_SHED_EVENT_LOOP_DELAY_MS: '0', ...FAST_CLUSTER, ...env },
    1024,
  );
  return { server, host, url: server.url };
}

/** Polls `probe` until it returns a value (not undefined), failing after `timeoutMs`. */
export async function pollUntil<T>(probe: () => Promise<T | undefined>, timeoutMs = 15_000, what = 'the condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface ClusterView {
  nodeId: string;
  nodes: { nodeId: string; state: string; apiUrl: string; load: number }[];
}

/** The cluster as `url` sees it. */
export async function clusterView(url: string, headers: Record<string, string> = {}): Promise<ClusterView> {
  const response = await fetch(`${url}/v1/cluster`, { headers });
  if (response.status !== 200) throw new Error(`GET /v1/cluster answered ${response.status}`);
  return (await response.json()) as ClusterView;
}

/** Waits until every node sees `count` live nodes. */
export async function waitForMembers(urls: readonly string[], count: number, headers: Record<string, string> = {}): Promise<void> {
  for (const url of urls) {
    await pollUntil(async () => {
      const view = await clusterView(url, headers);
      return view.nodes.filter((node) => node.state === 'live').length === count ? true : undefined;
    }, 15_000, `${url} seeing ${count} live nodes`);
  }
}

/** Starts three nodes on 127.0.0.2–4 and waits until each sees all three. */
export async function startCluster(compiled: string, redisUrl: string, env: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<ClusterNode[]> {
  const started = await Promise.allSettled(NODE_HOSTS.map((host) => startNode(compiled, host, redisUrl, env)));
  const nodes = started.filter((result) => result.status === 'fulfilled').map((result) => result.value);
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) {
    await Promise.all(nodes.map((node) => node.server.stop()));
    throw failed.reason;
  }
  await waitForMembers(
    nodes.map((node) => node.url),
    nodes.length,
    headers,
  );
  return Promise.all(nodes.map(async (node) => ({ ...node, nodeId: (await clusterView(node.url, headers)).nodeId })));
}

/** Stops every node that is still running (a stopped one is resumed first, or it could not exit). */
export async function stopCluster(nodes: readonly ClusterNode[]): Promise<void> {
  await Promise.all(
    nodes.map(async (node) => {
      if (node.server.process.exitCode !== null || node.server.process.signalCode !== null) return;
      node.server.process.kill('SIGCONT');
      await node.server.stop();
    }),
  );
}

/** A file's cluster: its Redis and three nodes, there from `beforeAll` on. */
export interface ClusterFixture {
  readonly redis: RedisProcess;
  readonly nodes: ClusterNode[];
}

/**
 * Starts a Redis and three nodes once for the file (in `beforeAll`) and stops them, and removes
 * the compiled server, in `afterAll` whatever happened. `headers` authenticate the wait for the
 * members when the nodes have API keys.
 */
export function useCluster(env: Record<string, string> = {}, headers: Record<string, string> = {}): ClusterFixture {
  let compiled: string | undefined;
  let redis: RedisProcess | undefined;
  let nodes: ClusterNode[] = [];
  beforeAll(async () => {
    compiled = compileServer();
    redis = await RedisProcess.start();
    nodes = await startCluster(compiled, redis.url, env, headers);
  }, 60_000);
  afterAll(async () => {
    await stopCluster(nodes);
    await redis?.remove();
    if (compiled) removeCompiled(compiled);
  });
  return {
    get redis(): RedisProcess {
      if (redis === undefined) throw new Error('the cluster is not started yet (use it inside a test)');
      return redis;
    },
    get nodes(): ClusterNode[] {
      return nodes;
    },
  };
}

