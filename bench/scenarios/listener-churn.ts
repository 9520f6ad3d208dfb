import { BenchContext, Scenario } from '../lib/context';
import { HttpClient } from '../lib/http';
import { LOOPBACK } from '../lib/processes';

interface Listener {
  id: string;
}

const CONCURRENT_CLIENTS = 8;
const WARM_UP_CYCLES = 200;

/** Create a listener, then delete it: one cycle. */
async function cycle(client: HttpClient): Promise<void> {
  const listener = await client.json<Listener>('POST', '/v1/tcp/listeners', { host: LOOPBACK, port: 0 }, 201);
  await client.json('DELETE', `/v1/tcp/listeners/${listener.id}`);
}

/** Cycles per second that `clients` clients get through, each running one cycle after the other for `durationMs`. */
async function cyclesPerSecond(client: HttpClient, clients: number, durationMs: number): Promise<number> {
  const start = performance.now();
  let cycles = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() - start < durationMs) {
      await cycle(client);
      cycles++;
    }
  };
  await Promise.all(Array.from({ length: clients }, worker));
  return cycles / ((performance.now() - start) / 1000);
}

/**
 * Create a TCP listener, delete it, repeat — one client, one call at a time, and then 8 such
 * clients at once. One client is bound by HTTP round trips, so its baseline is bare Fastify
 * answering the same two calls without a socket behind them (the HTTP limit).
 */
export const listenerChurn: Scenario = {
  name: 'listeners',
  async run({ service, baseline, volumes, log }: BenchContext) {
    const bare = new HttpClient(LOOPBACK, baseline.httpPort);
    for (let i = 0; i < WARM_UP_CYCLES; i++) {
      await cycle(service.client);
      await cycle(bare);
    }
    const durationMs = volumes.listenerSeconds * 1000;
    const sequential = await cyclesPerSecond(service.client, 1, durationMs);
    const bareSequential = await cyclesPerSecond(bare, 1, durationMs);
    const concurrent = await cyclesPerSecond(service.client, CONCURRENT_CLIENTS, durationMs);
    const bareConcurrent = await cyclesPerSecond(bare, CONCURRENT_CLIENTS, durationMs);
    const raw = await baseline.call('listenCloseLoop', { durationMs });
    bare.close();
    log(
      `listeners: sockplane ${sequential.toFixed(0)}/s sequential, ${concurrent.toFixed(0)}/s with ${CONCURRENT_CLIENTS} clients; ` +
        `bare Fastify ${bareSequential.toFixed(0)}/s and ${bareConcurrent.toFixed(0)}/s; raw net listen + close ${(raw.operations / (raw.elapsedMs / 1000)).toFixed(0)}/s`,
    );
    return [
      {
        scenario: 'create + delete a TCP listener, sequentially (1 client)',
        unit: 'ops/s',
        sockplane: sequential,
        baseline: bareSequential,
        baselineName: 'bare Fastify, same 2 calls',
        target: { on: 'figure', atLeast: 3000 },
      },
      {
        scenario: `create + delete a TCP listener, ${CONCURRENT_CLIENTS} clients each sequential`,
        unit: 'ops/s',
        sockplane: concurrent,
        baseline: bareConcurrent,
        baselineName: 'bare Fastify, same 2 calls',
        target: null,
      },
    ];
  },
};
