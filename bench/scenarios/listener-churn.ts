import autocannon from 'autocannon';
import { BenchContext, Scenario } from '../lib/context';
import { LOOPBACK } from '../lib/processes';

const CONCURRENT_CLIENTS = 8;
const WARM_UP_SECONDS = 1;
const CREATE_BODY = JSON.stringify({ host: LOOPBACK, port: 0 });

interface CycleContext {
  listenerId?: string;
}

/**
 * Cycles (create a listener, then delete it) per second that `clients` keep-alive connections
 * get through in `seconds`, each running one call after the other. autocannon drives them: a
 * lean HTTP client, so the figure is the server's, not the client's (node:http's client cost
 * more per call than bare Fastify's answer).
 */
async function cyclesPerSecond(origin: string, clients: number, seconds: number): Promise<number> {
  const result = await autocannon({
    url: origin,
    connections: clients,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        path: '/v1/tcp/listeners',
        headers: { 'content-type': 'application/json' },
        body: CREATE_BODY,
        onResponse: (status: number, body: string, context: CycleContext) => {
          context.listenerId = status === 201 ? (JSON.parse(body) as { id: string }).id : undefined;
        },
      },
      {
        method: 'DELETE',
        setupRequest: (request: autocannon.Request, context: CycleContext) => ({ ...request, path: `/v1/tcp/listeners/${context.listenerId}` }),
      },
    ],
  });
  if (result.errors > 0 || result.non2xx > 0) throw new Error(`${origin}: ${result.errors} errors, ${result.non2xx} non-2xx answers`);
  return result.requests.total / 2 / result.duration;
}

/**
 * Create a TCP listener, delete it, repeat — one client, one call at a time, and then 8 such
 * clients at once. One client is bound by HTTP round trips, so its baseline is bare Fastify
 * answering the same two calls without a socket behind them (the HTTP limit).
 */
export const listenerChurn: Scenario = {
  name: 'listeners',
  async run({ service, baseline, volumes, log }: BenchContext) {
    const bare = `http://${LOOPBACK}:${baseline.httpPort}`;
    await cyclesPerSecond(service.client.origin, 1, WARM_UP_SECONDS);
    await cyclesPerSecond(bare, 1, WARM_UP_SECONDS);
    const seconds = volumes.listenerSeconds;
    const sequential = await cyclesPerSecond(service.client.origin, 1, seconds);
    const bareSequential = await cyclesPerSecond(bare, 1, seconds);
    const concurrent = await cyclesPerSecond(service.client.origin, CONCURRENT_CLIENTS, seconds);
    const bareConcurrent = await cyclesPerSecond(bare, CONCURRENT_CLIENTS, seconds);
    const raw = await baseline.call('listenCloseLoop', { durationMs: seconds * 1000 });
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
