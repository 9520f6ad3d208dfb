import { once } from 'node:events';
import { WebSocket } from 'ws';
import { acceptedConnection, connectTcp, createListener, deleteListener, resetConnection } from '../lib/api';
import { BenchContext, Scenario } from '../lib/context';
import { HttpClient } from '../lib/http';
import { Baseline, LOOPBACK, cpuSeconds } from '../lib/processes';
import { ResultRow, percentile } from '../lib/report';
import { connectTo, writeAll } from '../lib/peers';
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

/** Resolves once `total` bytes have arrived on the WebSocket. */
function receiveAll(ws: WebSocket, total: number): Promise<void> {
  let received = 0;
  return new Promise<void>((resolve) =>
    ws.on('message', (data: Buffer) => {
      received += data.length;
      if (received >= total) resolve();
    }),
  );
}

/** A peer (the baseline process) streams into a connection sockplane accepted; the client reads it all through one attached WebSocket (`release=auto`). */
async function attachDrain({ service, baseline }: BenchContext, total: number): Promise<number> {
  const { client } = service;
  const listener = await createListener(client);
  const start = performance.now();
  const streaming = baseline.call('streamInto', { port: listener.local.port, bytes: total });
  const connection = await acceptedConnection(client, listener.id, 1);
  const ws = await openAttach(client, `/v1/tcp/connections/${connection.id}/attach?fromOffset=0&release=auto`);
  await receiveAll(ws, total);
  await streaming;
  const elapsed = performance.now() - start;
  ws.close();
  await resetConnection(client, connection.id);
  await deleteListener(client, listener.id);
  return megabytesPerSecond(total, elapsed);
}

/** Sends `total` bytes in 1 MiB messages, keeping at most 8 MiB unsent, and answers the milliseconds until the counting sink had them all. */
async function pushMessages(ws: WebSocket, baseline: Baseline, total: number): Promise<number> {
  const message = Buffer.alloc(MESSAGE_BYTES, 0x62);
  const start = performance.now();
  const received = baseline.call('waitTcpSink', { bytes: total });
  for (let sent = 0; sent < total; sent += message.length) {
    const piece = total - sent >= message.length ? message : message.subarray(0, total - sent);
    if (ws.bufferedAmount < CLIENT_HIGH_WATER) ws.send(piece);
    else await new Promise<void>((resolve, reject) => ws.send(piece, (err) => (err ? reject(err) : resolve())));
  }
  await received;
  return performance.now() - start;
}

/** The client sends `total` bytes through one attached WebSocket (1 MiB messages) to the counting sink in the baseline process. */
async function attachPush({ service, baseline }: BenchContext, total: number, masked = false): Promise<number> {
  const { client } = service;
  const sink = await baseline.call('openTcpSink', {});
  const connection = await connectTcp(client, sink.port);
  const ws = await openAttach(client, `/v1/tcp/connections/${connection.id}/attach?read=false&write=true`, masked);
  const elapsed = await pushMessages(ws, baseline, total);
  ws.close();
  await resetConnection(client, connection.id);
  await baseline.call('closeTcpSink', {});
  return megabytesPerSecond(total, elapsed);
}

/** The attach drain's shape through the bare WebSocket relay: the peer streams into the relay's connection, the client reads it through one WebSocket. */
async function relayDrain({ baseline }: BenchContext, relay: HttpClient, total: number): Promise<number> {
  const { port } = await relay.json<{ port: number }>('POST', '/ws-relay/listeners', {}, 201);
  const start = performance.now();
  const streaming = baseline.call('streamInto', { port, bytes: total });
  const ws = await openAttach(relay, '/ws-relay/attach');
  await receiveAll(ws, total);
  await streaming;
  const elapsed = performance.now() - start;
  ws.close();
  await relay.json('DELETE', '/ws-relay');
  return megabytesPerSecond(total, elapsed);
}

/** The attach push's shape through the bare WebSocket relay, to the same counting sink, with the same client. */
async function relayPush({ baseline }: BenchContext, relay: HttpClient, total: number): Promise<number> {
  const sink = await baseline.call('openTcpSink', {});
  await relay.json('POST', '/ws-relay/connections', { port: sink.port }, 201);
  const ws = await openAttach(relay, '/ws-relay/attach');
  const elapsed = await pushMessages(ws, baseline, total);
  ws.close();
  await relay.json('DELETE', '/ws-relay');
  await baseline.call('closeTcpSink', {});
  return megabytesPerSecond(total, elapsed);
}

/**
 * Raw `net` through a third process that only pipes one connection into another (the baseline's
 * bare `pipe()` proxy, in the relay's process): what a relay of any protocol costs on this
 * machine before WebSocket framing, the second hop through the kernel and a third process.
 */
async function rawNetThroughPipe({ baseline }: BenchContext, relayProcess: Baseline, total: number): Promise<number> {
  const sink = await baseline.call('openTcpSink', {});
  const { port } = await relayProcess.call('openPipeProxy', { upstreamPort: sink.port });
  const socket = await connectTo(port);
  const start = performance.now();
  await Promise.all([writeAll(socket, total, Buffer.alloc(256 * 1024, 0x61)), baseline.call('waitTcpSink', { bytes: total })]);
  const elapsed = performance.now() - start;
  socket.destroy();
  await relayProcess.call('closePipeProxy', {});
  await baseline.call('closeTcpSink', {});
  return megabytesPerSecond(total, elapsed);
}

/** One transfer's throughput, and the CPU each of its processes spent on it per MiB. */
interface Measured {
  mbps: number;
  /** sockplane, or the bare ws relay's process (none for raw `net`). */
  serviceMsPerMiB: number;
  /** The bench, which reads or sends. */
  clientMsPerMiB: number;
  /** The baseline process: the streaming peer of a drain, the sink of a push and of raw `net`. */
  peerMsPerMiB: number;
}

/**
 * Runs one transfer of `total` bytes and takes the CPU of the server in the middle (from /proc,
 * every thread), of the peer (the baseline process) and of the client (this process) around it:
 * on a machine others load, CPU per MiB moves far less than MB/s, which also counts the time
 * each process waited for a core; and their sum says how fast two cores could move the bytes.
 */
async function measured(pids: { server: number | null; peer: number }, total: number, transfer: () => Promise<number>): Promise<Measured> {
  const serverBefore = pids.server === null ? 0 : cpuSeconds(pids.server);
  const peerBefore = cpuSeconds(pids.peer);
  const clientBefore = process.cpuUsage();
  const mbps = await transfer();
  const client = process.cpuUsage(clientBefore);
  const msPerMiB = (seconds: number): number => (seconds * 1000) / (total / (1024 * 1024));
  return {
    mbps,
    serviceMsPerMiB: pids.server === null ? 0 : msPerMiB(cpuSeconds(pids.server) - serverBefore),
    clientMsPerMiB: msPerMiB((client.user + client.system) / 1e6),
    peerMsPerMiB: msPerMiB(cpuSeconds(pids.peer) - peerBefore),
  };
}

/**
 * Issue 20: drain and push through an attached WebSocket, beside the HTTP-call drain and push,
 * raw `net`, and the same drain and push through the bare WebSocket relay, in the same rounds.
 */
export const attach: Scenario = {
  name: 'attach',
  async run(context: BenchContext) {
    const { volumes, log, service, baseline } = context;
    const total = volumes.streamBytes;
    const mib = total / (1024 * 1024);
    // One relay process for the whole scenario, warmed up by round 0 as the service is.
    const relayProcess = await Baseline.start();
    const relay = new HttpClient(LOOPBACK, relayProcess.httpPort);
    const measures = {
      raw: { pid: null, run: () => rawNet(context) },
      rawPiped: { pid: relayProcess.pid, run: () => rawNetThroughPipe(context, relayProcess, total) },
      attachDrained: { pid: service.pid, run: () => attachDrain(context, total) },
      relayDrained: { pid: relayProcess.pid, run: () => relayDrain(context, relay, total) },
      httpDrained: { pid: service.pid, run: () => drain(context, total) },
      attachPushed: { pid: service.pid, run: () => attachPush(context, total) },
      relayPushed: { pid: relayProcess.pid, run: () => relayPush(context, relay, total) },
      attachPushedMasked: { pid: service.pid, run: () => attachPush(context, total, true) },
      httpPushed: { pid: service.pid, run: () => push(context, total) },
    };
    type Name = keyof typeof measures;
    const names = Object.keys(measures) as Name[];
    const rounds = Object.fromEntries(names.map((name) => [name, [] as Measured[]])) as Record<Name, Measured[]>;
    try {
      // Round 0 warms up (V8 optimises the paths, TCP grows its windows) and is not kept.
      for (let round = 0; round <= volumes.streamRounds; round++) {
        for (const name of names) {
          const figure = await measured({ server: measures[name].pid, peer: baseline.pid }, total, measures[name].run);
          if (round > 0) rounds[name].push(figure);
        }
      }
    } finally {
      relay.close();
      await relayProcess.stop();
    }
    const median = (name: Name, of: keyof Measured = 'mbps'): number => percentile(rounds[name].map((m) => m[of]), 50);
    const each = (name: Name): string => (rounds[name].length > 1 ? ` (${rounds[name].map((m) => m.mbps.toFixed(0)).join(', ')})` : '');
    const figure = (label: string, name: Name): string => `${label} ${median(name).toFixed(0)}${each(name)}`;
    const cpu = (name: Name): string => {
      const [server, client, peer] = [median(name, 'serviceMsPerMiB'), median(name, 'clientMsPerMiB'), median(name, 'peerMsPerMiB')];
      return `${server.toFixed(2)} ms server, ${client.toFixed(2)} ms client, ${peer.toFixed(2)} ms peer (sum ${(server + client + peer).toFixed(2)})`;
    };
    const ratio = (name: Name, to: Name = 'raw'): string => (median(name) / median(to)).toFixed(2);
    log(
      `attach, MB/s: ${figure('raw net', 'raw')}, ${figure('raw net through a bare pipe relay', 'rawPiped')}, ${figure('attach drain', 'attachDrained')}, ${figure('bare ws relay drain', 'relayDrained')}, ` +
        `${figure('HTTP drain', 'httpDrained')}, ${figure('attach push', 'attachPushed')}, ${figure('bare ws relay push', 'relayPushed')}, ` +
        `${figure('attach push with random masks', 'attachPushedMasked')}, ${figure('HTTP push', 'httpPushed')}`,
    );
    log(
      `attach, CPU per MiB (median; the server is sockplane, or the bare ws relay's process) and ratio to raw net: ` +
        `attach drain ${cpu('attachDrained')}, ${ratio('attachDrained')} (${ratio('attachDrained', 'relayDrained')} of the bare ws relay); ` +
        `bare ws relay drain ${cpu('relayDrained')}, ${ratio('relayDrained')}; HTTP drain ${cpu('httpDrained')}, ${ratio('httpDrained')}; ` +
        `attach push ${cpu('attachPushed')}, ${ratio('attachPushed')} (${ratio('attachPushed', 'relayPushed')} of the bare ws relay); ` +
        `bare ws relay push ${cpu('relayPushed')}, ${ratio('relayPushed')}; ` +
        `attach push with random masks ${cpu('attachPushedMasked')}, ${ratio('attachPushedMasked')}; HTTP push ${cpu('httpPushed')}, ${ratio('httpPushed')}; ` +
        `raw net ${cpu('raw')}; raw net through a bare pipe relay ${cpu('rawPiped')}, ${ratio('rawPiped')}`,
    );
    const row = (scenario: string, name: Name, target: boolean): ResultRow => ({
      scenario,
      unit: 'MB/s',
      sockplane: median(name),
      baseline: median('raw'),
      baselineName: 'raw net loopback',
      target: target ? { on: 'ratio', atLeast: 0.6 } : null,
    });
    const againstRelay = (scenario: string, name: Name, relayName: Name): ResultRow => ({
      scenario,
      unit: 'MB/s',
      sockplane: median(name),
      baseline: median(relayName),
      baselineName: 'bare ws relay, same shape',
      target: null,
    });
    return [
      row(`peer streams ${mib} MiB in, client reads through attach (raw, release=auto)`, 'attachDrained', true),
      againstRelay(`the same, against a bare net ⇄ ws relay (same rounds)`, 'attachDrained', 'relayDrained'),
      row(`the same, client drains with HTTP reads + release (same rounds)`, 'httpDrained', false),
      row(`client pushes ${mib} MiB through attach (1 MiB messages)`, 'attachPushed', true),
      againstRelay(`the same, against a bare net ⇄ ws relay (same rounds)`, 'attachPushed', 'relayPushed'),
      row(`the same with random masks, as a browser sends (same rounds)`, 'attachPushedMasked', false),
      row(`the same, client pushes with octet-stream sends (same rounds)`, 'httpPushed', false),
    ];
  },
};
