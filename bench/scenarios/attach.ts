import { once } from 'node:events';
import { WebSocket } from 'ws';
import { acceptedConnection, connectTcp, createListener, deleteListener, resetConnection } from '../lib/api';
import { BenchContext, Scenario } from '../lib/context';
import { HttpClient } from '../lib/http';
import { cpuSeconds } from '../lib/processes';
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
 * A WebSocket to the bench's service. By default its frames carry an all-zero mask: masking
 * guards browsers' proxies, not a Node client on loopback, and `ws` then neither masks (the
 * client's cost) nor unmasks (the service's). Without the optional native `bufferutil`, each is a
 * JavaScript pass over every byte, which held the push near 0.1 of raw `net` here; docs/attach.md
 * tells Node clients the same. `masked` sends random masks as a browser does, so the row that
 * uses it shows what unmasking a browser's bytes costs the service.
 */
async function openAttach(client: HttpClient, path: string, masked = false): Promise<WebSocket> {
  const zeroMask = masked ? {} : { generateMask: (mask: Buffer) => mask.fill(0) };
  const ws = new WebSocket(`ws://${client.host}:${client.port}${path}`, 'sockplane.raw.v1', { perMessageDeflate: false, ...zeroMask });
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
async function attachPush({ service, baseline }: BenchContext, total: number, masked = false): Promise<number> {
  const { client } = service;
  const sink = await baseline.call('openTcpSink', {});
  const connection = await connectTcp(client, sink.port);
  const ws = await openAttach(client, `/v1/tcp/connections/${connection.id}/attach?read=false&write=true`, masked);
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

/** One transfer's throughput, and the CPU the service and the bench's client spent on it per MiB. */
interface Measured {
  mbps: number;
  serviceMsPerMiB: number;
  clientMsPerMiB: number;
}

/**
 * Runs one transfer of `total` bytes and takes the service's CPU (from /proc, every thread) and
 * the client's (this process) around it: on a machine others load, CPU per MiB moves far less
 * than MB/s, which also counts the time each process waited for a core.
 */
async function measured(servicePid: number, total: number, transfer: () => Promise<number>): Promise<Measured> {
  const serviceBefore = cpuSeconds(servicePid);
  const clientBefore = process.cpuUsage();
  const mbps = await transfer();
  const client = process.cpuUsage(clientBefore);
  const mib = total / (1024 * 1024);
  return { mbps, serviceMsPerMiB: ((cpuSeconds(servicePid) - serviceBefore) * 1000) / mib, clientMsPerMiB: (client.user + client.system) / 1000 / mib };
}

/** Issue 20: drain and push through an attached WebSocket, beside the HTTP-call drain and push and raw `net`, in the same rounds. */
export const attach: Scenario = {
  name: 'attach',
  async run(context: BenchContext) {
    const { volumes, log, service } = context;
    const total = volumes.streamBytes;
    const mib = total / (1024 * 1024);
    const measures = {
      raw: () => rawNet(context),
      attachDrained: () => attachDrain(context, total),
      httpDrained: () => drain(context, total),
      attachPushed: () => attachPush(context, total),
      attachPushedMasked: () => attachPush(context, total, true),
      httpPushed: () => push(context, total),
    };
    type Name = keyof typeof measures;
    const names = Object.keys(measures) as Name[];
    const rounds = Object.fromEntries(names.map((name) => [name, [] as Measured[]])) as Record<Name, Measured[]>;
    // Round 0 warms up (V8 optimises the paths, TCP grows its windows) and is not kept.
    for (let round = 0; round <= volumes.streamRounds; round++) {
      for (const name of names) {
        const figure = await measured(service.pid, total, measures[name]);
        if (round > 0) rounds[name].push(figure);
      }
    }
    const median = (name: Name, of: keyof Measured = 'mbps'): number => percentile(rounds[name].map((m) => m[of]), 50);
    const each = (name: Name): string => (rounds[name].length > 1 ? ` (${rounds[name].map((m) => m.mbps.toFixed(0)).join(', ')})` : '');
    const cpu = (name: Name): string => `${median(name, 'serviceMsPerMiB').toFixed(2)} ms service, ${median(name, 'clientMsPerMiB').toFixed(2)} ms client`;
    const ratio = (name: Name): string => (median(name) / median('raw')).toFixed(2);
    log(
      `attach, MB/s: raw net ${median('raw').toFixed(0)}${each('raw')}, attach drain ${median('attachDrained').toFixed(0)}${each('attachDrained')}, ` +
        `HTTP drain ${median('httpDrained').toFixed(0)}${each('httpDrained')}, attach push ${median('attachPushed').toFixed(0)}${each('attachPushed')}, ` +
        `attach push with random masks ${median('attachPushedMasked').toFixed(0)}${each('attachPushedMasked')}, HTTP push ${median('httpPushed').toFixed(0)}${each('httpPushed')}`,
    );
    log(
      `attach, CPU per MiB (median) and ratio to raw net: attach drain ${cpu('attachDrained')}, ${ratio('attachDrained')}; ` +
        `HTTP drain ${cpu('httpDrained')}, ${ratio('httpDrained')}; attach push ${cpu('attachPushed')}, ${ratio('attachPushed')}; ` +
        `attach push with random masks ${cpu('attachPushedMasked')}, ${ratio('attachPushedMasked')}; HTTP push ${cpu('httpPushed')}, ${ratio('httpPushed')}; raw net ${median('raw', 'clientMsPerMiB').toFixed(2)} ms client`,
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
      row(`the same with random masks, as a browser sends (same rounds)`, median('attachPushedMasked'), false),
      row(`the same, client pushes with octet-stream sends (same rounds)`, median('httpPushed'), false),
    ];
  },
};
