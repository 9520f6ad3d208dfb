import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectTcp, resetConnection } from '../lib/api';
import { BenchContext, Scenario } from '../lib/context';
import { HttpClient } from '../lib/http';
import { startSinkPeer } from '../lib/peers';
import { Service, cpuSeconds, freePort, startService } from '../lib/processes';
import { percentile } from '../lib/report';

const NODE_HOSTS = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
const SEND_BODY = JSON.stringify({ data: 'x'.repeat(64), encoding: 'utf8' });
/** Listeners the list walks: this many on each of the three nodes, three times as many on the one node. */
const LISTENERS_PER_NODE = 100;
const PAGE = 100;

/** A `redis-server` of the bench's own: a free port, its own directory, nothing saved. */
async function startRedis(): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sockplane-bench-redis-'));
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (text: string) => (output += text));
  while (!output.includes('Ready to accept connections')) {
    if (child.exitCode !== null) throw new Error(`redis-server exited:\n${output}`);
    await once(child.stdout ?? child, 'data');
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function timed(client: HttpClient, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<number> {
  const start = performance.now();
  const response = await client.send(method, path, body === undefined ? { headers } : { body, headers: { ...headers, 'content-type': 'application/json' } });
  if (response.status !== 200) throw new Error(`${method} ${path} answered ${response.status}: ${response.body.toString()}`);
  return performance.now() - start;
}

/**
 * A bare forwarder in front of `target`, on 127.0.0.5: `bare-proxy` (Fastify + reply-from,
 * bench/bare-proxy.ts) or `bare-pipe` (a `net` pipe, bench/bare-pipe.ts).
 */
async function startBare(script: 'bare-proxy' | 'bare-pipe', target: string): Promise<{ client: HttpClient; pid: number; stop(): Promise<void> }> {
  const host = '127.0.0.5';
  const port = await freePort(host);
  const child = spawn(process.execPath, [join(__dirname, '..', `${script}.js`), target, host, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (text: string) => (output += text));
  while (!output.includes('ready')) {
    if (child.exitCode !== null) throw new Error(`${script} exited:\n${output}`);
    await once(child.stdout ?? child, 'data');
  }
  const client = new HttpClient(host, port);
  return {
    client,
    pid: child.pid ?? 0,
    stop: async () => {
      client.close();
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}

/** Latencies of `calls` sequential calls to each target, taking turns in batches of 50 so that all see the same machine. */
async function alternate(calls: number, ...targets: (() => Promise<number>)[]): Promise<number[][]> {
  const samples = targets.map((): number[] => []);
  while (samples[0].length < calls) {
    for (const [index, target] of targets.entries()) for (let i = 0; i < 50; i++) samples[index].push(await target());
  }
  return samples;
}

/**
 * Issue 21: a cluster of three nodes on Redis (each its own process, on 127.0.0.2–4). A send
 * forwarded by node A to the connection node B holds, against the same send made on B; and a
 * page of a list gathered from three nodes, against the same page from one node holding all
 * the sockets (the bench's single-node service).
 */
export const cluster: Scenario = {
  name: 'cluster',
  async run({ service, volumes, log }: BenchContext) {
    const redis = await startRedis();
    const nodes: Service[] = [];
    const sink = await startSinkPeer();
    try {
      for (const host of NODE_HOSTS) {
        nodes.push(
          await startService({
            host,
            nodeArgs: [],
            env: { SOCKPLANE_CLUSTER_REDIS_URL: redis.url, SOCKPLANE_CLUSTER_SECRET: 'bench-cluster-secret-0123456789', SOCKPLANE_LOG_LEVEL: 'warn' },
          }),
        );
      }
      const [a, b] = nodes.map((node) => node.client);
      for (const node of nodes) {
        for (let seen = 0; seen < nodes.length; ) {
          const view = await node.client.json<{ nodes: { state: string }[] }>('GET', '/v1/cluster');
          seen = view.nodes.filter((n) => n.state === 'live').length;
          if (seen < nodes.length) await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }

      const proxy = await startBare('bare-proxy', b.origin);
      const pipe = await startBare('bare-pipe', b.origin);
      const connection = await connectTcp(b, sink.server.port);
      const sendPath = `/v1/tcp/connections/${connection.id}/send`;
      const sendLocal = (): Promise<number> => timed(b, 'POST', sendPath, SEND_BODY);
      const sendForwarded = (): Promise<number> => timed(a, 'POST', sendPath, SEND_BODY);
      const sendProxied = (): Promise<number> => timed(proxy.client, 'POST', sendPath, SEND_BODY);
      // The pipe does not touch the request: it carries the Host B allows.
      const sendPiped = (): Promise<number> => timed(pipe.client, 'POST', sendPath, SEND_BODY, { host: `${b.host}:${b.port}` });
      const warmUp = Math.min(1000, volumes.roundTrips);
      await alternate(warmUp, sendLocal, sendForwarded, sendProxied, sendPiped);
      // CPU the processes spend per call, which a loaded machine changes less than latency: B alone for a local send, A and B for a forwarded one.
      const [aNode, bNode] = nodes;
      const cpuOf = async (calls: number, send: () => Promise<number>, forwarder = aNode.pid): Promise<{ a: number; b: number }> => {
        const [a0, b0] = [cpuSeconds(forwarder), cpuSeconds(bNode.pid)];
        for (let i = 0; i < calls; i++) await send();
        return { a: ((cpuSeconds(forwarder) - a0) * 1e6) / calls, b: ((cpuSeconds(bNode.pid) - b0) * 1e6) / calls };
      };
      const localCpu = await cpuOf(volumes.roundTrips, sendLocal);
      const forwardedCpu = await cpuOf(volumes.roundTrips, sendForwarded);
      const proxyCpu = await cpuOf(volumes.roundTrips, sendProxied, proxy.pid);
      const pipeCpu = await cpuOf(volumes.roundTrips, sendPiped, pipe.pid);
      log(
        `cluster: CPU per send: local ${localCpu.b.toFixed(0)} µs on B; forwarded ${forwardedCpu.a.toFixed(0)} µs on A + ${forwardedCpu.b.toFixed(0)} µs on B; ` +
          `bare proxy ${proxyCpu.a.toFixed(0)} µs + ${proxyCpu.b.toFixed(0)} µs on B; bare L4 pipe ${pipeCpu.a.toFixed(0)} µs + ${pipeCpu.b.toFixed(0)} µs on B`,
      );
      const [local, forwarded, proxied, piped] = await alternate(volumes.roundTrips, sendLocal, sendForwarded, sendProxied, sendPiped);
      await proxy.stop();
      await pipe.stop();
      await resetConnection(b, connection.id);

      const label = 'bench:cluster-list';
      for (const node of nodes) {
        for (let n = 0; n < LISTENERS_PER_NODE; n++) await node.client.json('POST', '/v1/tcp/listeners', { host: node.client.host, port: 0, labels: { bench: 'cluster-list' } }, 201);
      }
      const single: string[] = [];
      for (let n = 0; n < LISTENERS_PER_NODE * nodes.length; n++) {
        single.push((await service.client.json<{ id: string }>('POST', '/v1/tcp/listeners', { host: '127.0.0.1', port: 0, labels: { bench: 'cluster-list' } }, 201)).id);
      }
      const listPath = `/v1/tcp/listeners?label=${label}&limit=${PAGE}`;
      const lists = Math.max(200, volumes.roundTrips / 5);
      await alternate(100, () => timed(a, 'GET', listPath), () => timed(service.client, 'GET', listPath));
      const listCpu = nodes.map((node) => cpuSeconds(node.pid));
      const singleCpu = cpuSeconds(service.pid);
      for (let i = 0; i < 200; i++) await timed(a, 'GET', listPath);
      const gatherMicros = nodes.map((node, index) => ((cpuSeconds(node.pid) - listCpu[index]) * 1e6) / 200);
      for (let i = 0; i < 200; i++) await timed(service.client, 'GET', listPath);
      log(`cluster: CPU per list page: one node ${(((cpuSeconds(service.pid) - singleCpu) * 1e6) / 200).toFixed(0)} µs; gathered ${gatherMicros.map((micros) => micros.toFixed(0)).join(' + ')} µs (A, B, C)`);
      const [gathered, oneNode] = await alternate(lists, () => timed(a, 'GET', listPath), () => timed(service.client, 'GET', listPath));
      await Promise.all(single.map((id) => service.client.json('DELETE', `/v1/tcp/listeners/${id}`)));

      const p = (samples: number[], at: number): number => percentile(samples, at);
      log(
        `cluster: send local p50 ${p(local, 50).toFixed(3)} ms p99 ${p(local, 99).toFixed(3)}, forwarded p50 ${p(forwarded, 50).toFixed(3)} ms p99 ${p(forwarded, 99).toFixed(3)}, ` +
          `bare proxy p50 ${p(proxied, 50).toFixed(3)} ms, bare L4 pipe p50 ${p(piped, 50).toFixed(3)} ms; ` +
          `list page of ${PAGE} one node p50 ${p(oneNode, 50).toFixed(3)} ms, three nodes p50 ${p(gathered, 50).toFixed(3)} ms`,
      );
      return [
        { scenario: 'send 64 B forwarded by node A to node B’s connection, p50', unit: 'ms', sockplane: p(forwarded, 50), baseline: p(local, 50), baselineName: 'the same send on node B', target: { on: 'ratio', atMost: 1.5 } },
        { scenario: 'send 64 B forwarded by node A to node B’s connection, p99', unit: 'ms', sockplane: p(forwarded, 99), baseline: p(local, 99), baselineName: 'the same send on node B', target: null },
        {
          scenario: 'send 64 B forwarded by node A to node B’s connection, p50, against a bare proxy',
          unit: 'ms',
          sockplane: p(forwarded, 50),
          baseline: p(proxied, 50),
          baselineName: 'bare Fastify + reply-from in front of B',
          target: null,
        },
        {
          scenario: 'send 64 B forwarded by node A to node B’s connection, p50, against a bare L4 pipe',
          unit: 'ms',
          sockplane: p(forwarded, 50),
          baseline: p(piped, 50),
          baselineName: 'a `net` pipe in front of B',
          target: null,
        },
        {
          scenario: 'send 64 B through a bare L4 pipe in front of B (the floor of a forward), p50',
          unit: 'ms',
          sockplane: p(piped, 50),
          baseline: p(local, 50),
          baselineName: 'the same send on node B',
          target: null,
        },
        {
          scenario: `list page of ${PAGE} listeners gathered from three nodes (${LISTENERS_PER_NODE} each), p50`,
          unit: 'ms',
          sockplane: p(gathered, 50),
          baseline: p(oneNode, 50),
          baselineName: `one node holding all ${LISTENERS_PER_NODE * nodes.length}`,
          target: { on: 'ratio', atMost: 3 },
        },
      ];
    } finally {
      await Promise.all(nodes.map((node) => node.stop()));
      await sink.server.close();
      await redis.stop();
    }
  },
};
