import autocannon from 'autocannon';
import { connectTcp, resetConnection } from '../lib/api';
import { BenchContext, Scenario } from '../lib/context';
import { startSinkPeer } from '../lib/peers';
import { LOOPBACK, cpuSeconds } from '../lib/processes';
import { percentile } from '../lib/report';

const CONNECTIONS = 32;
const BODY = JSON.stringify({ data: 'x'.repeat(64), encoding: 'utf8' });

interface Round {
  requestsPerSecond: number;
  /** CPU the server used per request: steadier than throughput on a shared machine, so logged to explain a figure. */
  cpuMicrosPerRequest: number;
}

/** `connections` clients, each sending the next request as the last one answers, for `seconds`. */
async function load(url: string, pid: number, seconds: number): Promise<Round> {
  const cpuBefore = cpuSeconds(pid);
  const result = await autocannon({
    url,
    method: 'POST',
    connections: CONNECTIONS,
    duration: seconds,
    headers: { 'content-type': 'application/json' },
    body: BODY,
  });
  if (result.errors > 0 || result.non2xx > 0) throw new Error(`${url}: ${result.errors} errors, ${result.non2xx} non-2xx answers`);
  const requests = result.requests.total;
  return { requestsPerSecond: requests / result.duration, cpuMicrosPerRequest: ((cpuSeconds(pid) - cpuBefore) * 1e6) / requests };
}

const median = (values: number[]): number => percentile(values, 50);

/**
 * `POST …/send` of a 64-byte payload on one open connection by 32 clients, against bare Fastify
 * parsing and answering the same request. Rounds alternate between the two; each figure is the
 * median of its rounds.
 */
export const sendRate: Scenario = {
  name: 'send',
  async run({ service, baseline, volumes, log }: BenchContext) {
    const sink = await startSinkPeer();
    const connection = await connectTcp(service.client, sink.server.port);
    const path = `/v1/tcp/connections/${connection.id}/send`;
    const sockplaneUrl = `${service.client.origin}${path}`;
    const baselineUrl = `http://${LOOPBACK}:${baseline.httpPort}${path}`;
    // A warm-up each, so both are measured with optimised code.
    await load(sockplaneUrl, service.pid, 1);
    await load(baselineUrl, baseline.pid, 1);
    const sockplane: Round[] = [];
    const bare: Round[] = [];
    for (let round = 0; round < volumes.loadRounds; round++) {
      sockplane.push(await load(sockplaneUrl, service.pid, volumes.loadSeconds));
      bare.push(await load(baselineUrl, baseline.pid, volumes.loadSeconds));
    }
    await resetConnection(service.client, connection.id);
    await sink.server.close();
    const [rate, bareRate] = [sockplane, bare].map((rounds) => median(rounds.map((r) => r.requestsPerSecond)));
    const [cpu, bareCpu] = [sockplane, bare].map((rounds) => median(rounds.map((r) => r.cpuMicrosPerRequest)));
    log(`send: sockplane ${rate.toFixed(0)} req/s (${cpu.toFixed(0)} µs CPU/request), bare Fastify ${bareRate.toFixed(0)} req/s (${bareCpu.toFixed(0)} µs CPU/request)`);
    return [
      {
        scenario: `send 64 B on one connection, ${CONNECTIONS} HTTP clients`,
        unit: 'req/s',
        sockplane: rate,
        baseline: bareRate,
        baselineName: 'bare Fastify POST',
        target: { on: 'ratio', atLeast: 0.5 },
      },
    ];
  },
};
