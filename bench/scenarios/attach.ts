import { once } from 'node:events';
import { WebSocket } from 'ws';
import { acceptedConnection, connectTcp, createListener, deleteListener, resetConnection } from '../lib/api';
import { BenchContext, Scenario } from '../lib/context';
import { HttpClient } from '../lib/http';
import { ResultRow, percentile } from '../lib/report';
import { drain, push, rawNet } from './streams';

/** Bytes per WebSocket message the client sends. */
const MESSAGE_BYTES = 1024 * 1024;
/** Unsent bytes the client lets its WebSocket hold before waiting for the oldest to go out. */
const CLIENT_HIGH_WATER = 8 * 1024 * 1024;

function megabytesPerSecond(bytes: number, ms: number): number {
  return bytes / 1e6 / (ms / 1000);
}

/**
 * A WebSocket to the bench's service. Its frames carry an all-zero mask: masking guards
 * browsers' proxies, not a Node client on loopback, and `ws` then neither masks nor unmasks
 * (without the optional native `bufferutil`, each is a JavaScript pass over every byte, which
 * held the push near 0.1 of raw `net` here). docs/attach.md tells clients the same.
 */
async function openAttach(client: HttpClient, path: string): Promise<WebSocket> {
  const ws = new WebSocket(`ws://${client.host}:${client.port}${path}`, 'sockplane.raw.v1', { perMessageDeflate: false, generateMask: (mask) => mask.fill(0) });
  await once(ws, 'open');
  return ws;
}

/** A peer (the baseline process) streams into a connection sockplane accepted; the client reads it all through one attached WebSocket (`release=auto`). */
async function attachDrain({ service, baseline }: BenchContext, total: number): Promise<number> {
  const { client } = service;
  const listener = await createListener(client);
  const start = performance.now();
  const streaming = baseline.call('streamInto', { port: listener.local.port, bytes: total });
  const connection = await acceptedConnection(client, listener.id, 1);
  const ws = await openAttach(client, `/v1/tcp/connections/${connection.id}/attach?fromOffset=0&release=auto`);
  let received = 0;
  await new Promise<void>((resolve) =>
    ws.on('message', (data: Buffer) => {
      received += data.length;
      if (received >= total) resolve();
    }),
  );
  await streaming;
  const elapsed = performance.now() - start;
  ws.close();
  await resetConnection(client, connection.id);
  await deleteListener(client, listener.id);
  return megabytesPerSecond(total, elapsed);
}

/** The client sends `total` bytes through one attached WebSocket (1 MiB messages) to the counting sink in the baseline process. */
async function attachPush({ service, baseline }: BenchContext, total: number): Promise<number> {
  const { client } = service;
  const sink = await baseline.call('openTcpSink', {});
  const connection = await connectTcp(client, sink.port);
  const ws = await openAttach(client, `/v1/tcp/connections/${connection.id}/attach?read=false&write=true`);
  const message = Buffer.alloc(MESSAGE_BYTES, 0x62);
  const start = performance.now();
  const received = baseline.call('waitTcpSink', { bytes: total });
  for (let sent = 0; sent < total; sent += message.length) {
    const piece = total - sent >= message.length ? message : message.subarray(0, total - sent);
    if (ws.bufferedAmount < CLIENT_HIGH_WATER) ws.send(piece);
    else await new Promise<void>((resolve, reject) => ws.send(piece, (err) => (err ? reject(err) : resolve())));
  }
  await received;
  const elapsed = performance.now() - start;
  ws.close();
  await resetConnection(client, connection.id);
  await baseline.call('closeTcpSink', {});
  return megabytesPerSecond(total, elapsed);
}

/** Issue 20: drain and push through an attached WebSocket, beside the HTTP-call drain and push and raw `net`, in the same rounds. */
export const attach: Scenario = {
  name: 'attach',
  async run(context: BenchContext) {
    const { volumes, log } = context;
    const total = volumes.streamBytes;
    const mib = total / (1024 * 1024);
    const measures = {
      raw: () => rawNet(context),
      attachDrained: () => attachDrain(context, total),
      httpDrained: () => drain(context, total),
      attachPushed: () => attachPush(context, total),
      httpPushed: () => push(context, total),
    };
    const rounds: Record<keyof typeof measures, number[]> = { raw: [], attachDrained: [], httpDrained: [], attachPushed: [], httpPushed: [] };
    // Round 0 warms up (V8 optimises the paths, TCP grows its windows) and is not kept.
    for (let round = 0; round <= volumes.streamRounds; round++) {
      for (const name of Object.keys(measures) as (keyof typeof measures)[]) {
        const figure = await measures[name]();
        if (round > 0) rounds[name].push(figure);
      }
    }
    const median = (name: keyof typeof rounds): number => percentile(rounds[name], 50);
    const each = (name: keyof typeof rounds): string => (rounds[name].length > 1 ? ` (${rounds[name].map((f) => f.toFixed(0)).join(', ')})` : '');
    log(
      `attach, MB/s: raw net ${median('raw').toFixed(0)}${each('raw')}, attach drain ${median('attachDrained').toFixed(0)}${each('attachDrained')}, ` +
        `HTTP drain ${median('httpDrained').toFixed(0)}${each('httpDrained')}, attach push ${median('attachPushed').toFixed(0)}${each('attachPushed')}, ` +
        `HTTP push ${median('httpPushed').toFixed(0)}${each('httpPushed')}`,
    );
    const row = (scenario: string, figure: number, target: boolean): ResultRow => ({
      scenario,
      unit: 'MB/s',
      sockplane: figure,
      baseline: median('raw'),
      baselineName: 'raw net loopback',
      target: target ? { on: 'ratio', atLeast: 0.6 } : null,
    });
    return [
      row(`peer streams ${mib} MiB in, client reads through attach (raw, release=auto)`, median('attachDrained'), true),
      row(`the same, client drains with HTTP reads + release (same rounds)`, median('httpDrained'), false),
      row(`client pushes ${mib} MiB through attach (1 MiB messages)`, median('attachPushed'), true),
      row(`the same, client pushes with octet-stream sends (same rounds)`, median('httpPushed'), false),
    ];
  },
};
