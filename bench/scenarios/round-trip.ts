import { connectTcp, resetConnection } from '../lib/api';
import { BenchContext, Scenario } from '../lib/context';
import { HttpClient } from '../lib/http';
import { startEchoPeer } from '../lib/peers';
import { LOOPBACK } from '../lib/processes';
import { ResultRow, percentile } from '../lib/report';

const PAYLOAD = 'x'.repeat(64);
const SEND_BODY = JSON.stringify({ data: PAYLOAD, encoding: 'utf8' });
const JSON_HEADERS = { 'content-type': 'application/json' };
/**
 * Round trips each subject makes before the timed ones. V8 optimises sockplane's long-poll read
 * and send paths (Nest's router, pipes, the socket runtime) only after a couple of thousand
 * calls: with only a few hundred, the p50 measured code a running service no longer runs
 * (bench/README.md has the figures).
 */
const WARM_UP = 3000;
/** Round trips per batch; batches alternate between sockplane and the baseline so both see the same machine. */
const BATCH = 50;

export type RoundTrip = () => Promise<void>;

async function timed(roundTrip: RoundTrip, count: number, samples: number[]): Promise<void> {
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await roundTrip();
    samples.push(performance.now() - start);
  }
}

/** Times each round trip `count` times (after a warm-up), in milliseconds, in alternating batches of `batch`. */
export async function timeSeries(count: number, subjects: RoundTrip[], batch = BATCH): Promise<number[][]> {
  for (const roundTrip of subjects) for (let i = 0; i < WARM_UP; i++) await roundTrip();
  const samples = subjects.map((): number[] => []);
  for (let done = 0; done < count; done += batch) {
    for (const [i, roundTrip] of subjects.entries()) await timed(roundTrip, Math.min(batch, count - done), samples[i]);
  }
  return samples;
}

/**
 * One round trip through an echo peer: a long-poll read of `readPath` from where the last one
 * ended and a send to `sendPath`, issued together; done when the read answers the echo.
 */
function echoRoundTrip(client: HttpClient, readPath: string, sendPath: string): RoundTrip {
  let offset = 0;
  return async () => {
    const [read, sent] = await Promise.all([
      client.send('GET', `${readPath}?from=${offset}&minBytes=${PAYLOAD.length}&waitMs=5000`),
      client.send('POST', sendPath, { body: SEND_BODY, headers: JSON_HEADERS }),
    ]);
    const answer = JSON.parse(read.body.toString('utf8')) as { data: string; nextOffset: number };
    if (read.status !== 200 || sent.status !== 200 || answer.data !== PAYLOAD) {
      throw new Error(`round trip through ${readPath} failed: read ${read.status} ${read.body.toString('utf8').slice(0, 200)}, send ${sent.status}`);
    }
    offset = answer.nextOffset;
  };
}

/**
 * A long-poll read is waiting while the client sends 64 bytes; the peer echoes them and the
 * read answers with them. Timed from issuing both requests to the read's answer, against one
 * round trip of the same POST to bare Fastify, and against the same round trip through the
 * bare relay (two calls and the echo, without sockplane).
 */
export const roundTrip: Scenario = {
  name: 'round-trip',
  async run({ service, baseline, volumes, log }: BenchContext) {
    const peer = await startEchoPeer();
    const connection = await connectTcp(service.client, peer.port, { noDelay: true });
    const base = `/v1/tcp/connections/${connection.id}`;
    const sockplaneRoundTrip = echoRoundTrip(service.client, `${base}/buffer`, `${base}/send`);
    const bare = new HttpClient(LOOPBACK, baseline.httpPort);
    const bareRoundTrip = async (): Promise<void> => {
      const res = await bare.send('POST', `${base}/send`, { body: SEND_BODY, headers: JSON_HEADERS });
      if (res.status !== 200) throw new Error(`bare Fastify answered ${res.status}`);
    };
    // The same two calls and echo through the bare relay: what the shape of the round trip costs here.
    await bare.json('POST', '/relay/connections', { port: peer.port, maxHeldBytes: 1024 * 1024 }, 201);
    const relayRoundTrip = echoRoundTrip(bare, '/relay/buffer', '/relay/send');
    const [sockplane, fastify, relay] = await timeSeries(volumes.roundTrips, [sockplaneRoundTrip, bareRoundTrip, relayRoundTrip]);
    await bare.json('DELETE', '/relay');
    bare.close();
    await resetConnection(service.client, connection.id);
    await peer.close();
    const rows: ResultRow[] = [50, 99].map((p) => ({
      scenario: `send → echo → long-poll read, p${p}`,
      unit: 'ms',
      sockplane: percentile(sockplane, p),
      baseline: percentile(fastify, p),
      baselineName: 'bare Fastify POST round trip',
      target: p === 50 ? { on: 'ratio' as const, atMost: 3 } : null,
    }));
    rows.push({
      scenario: 'send → echo → long-poll read, p50, against the bare relay',
      unit: 'ms',
      sockplane: percentile(sockplane, 50),
      baseline: percentile(relay, 50),
      baselineName: 'bare Fastify relay, same round trip',
      target: null,
    });
    log(
      `round trip: sockplane p50 ${rows[0].sockplane.toFixed(3)} ms, bare Fastify p50 ${rows[0].baseline?.toFixed(3)} ms, ` +
        `bare relay p50 ${rows[2].baseline?.toFixed(3)} ms`,
    );
    return rows;
  },
};
