import { acceptedConnection, connectTcp, createListener, deleteListener, resetConnection } from '../lib/api';
import { BenchContext, Scenario } from '../lib/context';
import { connectTo, writeAll } from '../lib/peers';
import { HttpClient } from '../lib/http';
import { Baseline, LOOPBACK } from '../lib/processes';
import { ResultRow, percentile } from '../lib/report';

/** Each write a peer makes (the raw baseline writes the same). */
const WRITE_CHUNK = Buffer.alloc(256 * 1024, 0x61);
/** `maxBytes` of each octet-stream read. */
export const READ_BYTES = 4 * 1024 * 1024;
/** Unreleased bytes a connection holds before reading pauses (the service's SOCKPLANE_MAX_BUFFERED_BYTES, and the bare relay's). */
export const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
/** Bytes per octet-stream `send`. */
const SEND_BYTES = 4 * 1024 * 1024;
const OCTET_STREAM = 'application/octet-stream';

function megabytesPerSecond(bytes: number, ms: number): number {
  return bytes / 1e6 / (ms / 1000);
}

/** Raw `net` loopback: the bench writes `total` bytes to a sink in the baseline process (two processes, as in the drain). */
export async function rawNet({ baseline, volumes }: BenchContext): Promise<number> {
  const { port } = await baseline.call('openTcpSink', {});
  const socket = await connectTo(port);
  const start = performance.now();
  await Promise.all([writeAll(socket, volumes.streamBytes, WRITE_CHUNK), baseline.call('waitTcpSink', { bytes: volumes.streamBytes })]);
  const elapsed = performance.now() - start;
  socket.destroy();
  await baseline.call('closeTcpSink', {});
  return megabytesPerSecond(volumes.streamBytes, elapsed);
}

/**
 * Reads `total` bytes from `path` as octet-stream reads from offset 0, releasing each read
 * (`DELETE path?upTo=`) while the next is on its way; sockplane and the bare relay alike.
 */
async function readAndRelease(client: HttpClient, path: string, total: number): Promise<void> {
  let offset = 0;
  let release: Promise<unknown> = Promise.resolve();
  while (offset < total) {
    const read = await client.send('GET', `${path}?from=${offset}&maxBytes=${READ_BYTES}&waitMs=5000`, { headers: { accept: OCTET_STREAM }, discardBody: true });
    const next = Number(read.headers['sockplane-next-offset']);
    if (read.status !== 200 || next !== offset + read.bodyBytes) throw new Error(`${path} read from ${offset} answered ${read.status} with ${read.bodyBytes} bytes, next ${next}`);
    offset = next;
    await release;
    release = client.send('DELETE', `${path}?upTo=${offset}`);
  }
  await release;
}

/**
 * A peer (the baseline process) streams into a connection sockplane accepted; the client drains
 * it with octet-stream reads, releasing what it read while the next read is on its way.
 */
export async function drain({ service, baseline }: BenchContext, total: number): Promise<number> {
  const { client } = service;
  const listener = await createListener(client);
  const start = performance.now();
  const streaming = baseline.call('streamInto', { port: listener.local.port, bytes: total });
  const connection = await acceptedConnection(client, listener.id, 1);
  await readAndRelease(client, `/v1/tcp/connections/${connection.id}/buffer`, total);
  await streaming;
  const elapsed = performance.now() - start;
  await resetConnection(client, connection.id);
  await deleteListener(client, listener.id);
  return megabytesPerSecond(total, elapsed);
}

/**
 * The same drain through the bare relay, in a process of its own (a second baseline process;
 * the first one streams), holding as many bytes as the bench's service does.
 */
async function drainThroughRelay({ baseline }: BenchContext, total: number): Promise<number> {
  const relayProcess = await Baseline.start();
  const relay = new HttpClient(LOOPBACK, relayProcess.httpPort);
  try {
    const { port } = await relay.json<{ port: number }>('POST', '/relay/listeners', { maxHeldBytes: MAX_BUFFERED_BYTES }, 201);
    const start = performance.now();
    const streaming = baseline.call('streamInto', { port, bytes: total });
    await readAndRelease(relay, '/relay/buffer', total);
    await streaming;
    const elapsed = performance.now() - start;
    await relay.json('DELETE', '/relay');
    return megabytesPerSecond(total, elapsed);
  } finally {
    relay.close();
    await relayProcess.stop();
  }
}

/**
 * Sends `total` bytes to `path` in octet-stream bodies, one at a time (order matters), and
 * resolves with MB/s once the counting sink in the baseline process has them all; sockplane and
 * the bare relay alike.
 */
async function sendAll(client: HttpClient, path: string, { baseline }: BenchContext, total: number): Promise<number> {
  const body = Buffer.alloc(SEND_BYTES, 0x62);
  const start = performance.now();
  const received = baseline.call('waitTcpSink', { bytes: total });
  for (let sent = 0; sent < total; sent += body.length) {
    const piece = total - sent >= body.length ? body : body.subarray(0, total - sent);
    const res = await client.send('POST', path, { body: piece, headers: { 'content-type': OCTET_STREAM } });
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${res.body.toString('utf8').slice(0, 200)}`);
  }
  await received;
  return megabytesPerSecond(total, performance.now() - start);
}

/** The client pushes `total` bytes through `send` to the raw baseline's receiver. */
export async function push(context: BenchContext, total: number): Promise<number> {
  const { service, baseline } = context;
  const sink = await baseline.call('openTcpSink', {});
  const connection = await connectTcp(service.client, sink.port);
  const rate = await sendAll(service.client, `/v1/tcp/connections/${connection.id}/send`, context, total);
  await resetConnection(service.client, connection.id);
  await baseline.call('closeTcpSink', {});
  return rate;
}

/** The same push through the bare relay, in a process of its own, to the same receiver. */
async function pushThroughRelay(context: BenchContext, total: number): Promise<number> {
  const { baseline } = context;
  const relayProcess = await Baseline.start();
  const relay = new HttpClient(LOOPBACK, relayProcess.httpPort);
  try {
    const sink = await baseline.call('openTcpSink', {});
    await relay.json('POST', '/relay/connections', { port: sink.port, maxHeldBytes: MAX_BUFFERED_BYTES }, 201);
    const rate = await sendAll(relay, '/relay/send', context, total);
    await relay.json('DELETE', '/relay');
    await baseline.call('closeTcpSink', {});
    return rate;
  } finally {
    relay.close();
    await relayProcess.stop();
  }
}

/** Bulk bytes in both directions, against raw `net` loopback between two processes. */
export const streams: Scenario = {
  name: 'streams',
  async run(context: BenchContext) {
    const { volumes, log } = context;
    const mib = volumes.streamBytes / (1024 * 1024);
    // Each measurement once per round, in turn, so all of them see the same moments of a noisy
    // machine; round 0 warms up (V8 optimises the paths, TCP grows its windows) and is not kept.
    const measures = {
      raw: () => rawNet(context),
      drained: () => drain(context, volumes.streamBytes),
      relayed: () => drainThroughRelay(context, volumes.streamBytes),
      pushed: () => push(context, volumes.streamBytes),
      pushedThroughRelay: () => pushThroughRelay(context, volumes.streamBytes),
    };
    const rounds = { raw: [] as number[], drained: [] as number[], relayed: [] as number[], pushed: [] as number[], pushedThroughRelay: [] as number[] };
    for (let round = 0; round <= volumes.streamRounds; round++) {
      for (const name of Object.keys(measures) as (keyof typeof measures)[]) {
        const figure = await measures[name]();
        if (round > 0) rounds[name].push(figure);
      }
    }
    const median = (name: keyof typeof rounds): number => percentile(rounds[name], 50);
    const [raw, drained, relayed, pushed, pushedThroughRelay] = [median('raw'), median('drained'), median('relayed'), median('pushed'), median('pushedThroughRelay')];
    const each = (figures: number[]): string => (figures.length > 1 ? ` (${figures.map((f) => f.toFixed(0)).join(', ')})` : '');
    log(
      `streams, MB/s: raw net ${raw.toFixed(0)}${each(rounds.raw)}, drain ${drained.toFixed(0)}${each(rounds.drained)}, ` +
        `bare relay drain ${relayed.toFixed(0)}${each(rounds.relayed)}, push ${pushed.toFixed(0)}${each(rounds.pushed)}, ` +
        `bare relay push ${pushedThroughRelay.toFixed(0)}${each(rounds.pushedThroughRelay)}`,
    );
    const againstRelay = (scenario: string, figure: number, relayFigure: number, shape: string): ResultRow => ({
      scenario,
      unit: 'MB/s',
      sockplane: figure,
      baseline: relayFigure,
      baselineName: `bare Fastify relay, same ${shape}`,
      target: null,
    });
    const row = (scenario: string, figure: number): ResultRow => ({
      scenario,
      unit: 'MB/s',
      sockplane: figure,
      baseline: raw,
      baselineName: 'raw net loopback',
      target: { on: 'ratio', atLeast: 0.4 },
    });
    return [
      row(`peer streams ${mib} MiB in, client drains (octet-stream reads + release)`, drained),
      againstRelay(`peer streams ${mib} MiB in, client drains, against the bare relay`, drained, relayed, 'drain'),
      row(`client pushes ${mib} MiB through send (octet-stream)`, pushed),
      againstRelay(`client pushes ${mib} MiB through send, against the bare relay`, pushed, pushedThroughRelay, 'push'),
    ];
  },
};
