import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { AddressInfo, Server, Socket, connect, createServer } from 'node:net';
import { BenchContext, Scenario } from '../lib/context';
import { echoThroughput } from '../lib/echo-stream';
import { LOOPBACK } from '../lib/processes';
import { ResultRow, percentile } from '../lib/report';
import { Receiver, lossFreeRate, trial } from './udp-receive';

/** The round trip's message. */
const PING = Buffer.alloc(64, 0x70);

interface Target {
  name: string;
  port: number;
}

/** A raw echo server in the bench process: the upstream both proxies relay to, and the direct round trip's peer. */
async function startEcho(): Promise<{ server: Server; sockets: Set<Socket>; port: number }> {
  const sockets = new Set<Socket>();
  const server = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.pipe(socket);
  });
  server.listen(0, LOOPBACK);
  await once(server, 'listening');
  return { server, sockets, port: (server.address() as AddressInfo).port };
}

async function open(target: Target): Promise<Socket> {
  const socket = connect({ host: LOOPBACK, port: target.port, noDelay: true });
  await once(socket, 'connect');
  return socket;
}

/** Streams `total` bytes through one connection and reads all of them back; MB/s. */
async function throughput(target: Target, total: number): Promise<number> {
  const socket = await open(target);
  try {
    return await echoThroughput(socket, total, target.name);
  } finally {
    socket.destroy();
  }
}

/** `count` sequential 64-byte round trips over one connection; each in µs. */
async function roundTrips(target: Target, count: number): Promise<number[]> {
  const socket = await open(target);
  try {
    const samples: number[] = [];
    for (let i = 0; i < count; i++) {
      const start = performance.now();
      const back = new Promise<void>((resolve) => {
        let received = 0;
        const onData = (chunk: Buffer): void => {
          received += chunk.length;
          if (received < PING.length) return;
          socket.off('data', onData);
          resolve();
        };
        socket.on('data', onData);
      });
      socket.write(PING);
      await back;
      samples.push((performance.now() - start) * 1000);
    }
    return samples;
  } finally {
    socket.destroy();
  }
}

const median = (values: number[]): number => percentile(values, 50);

/** SO_RCVBUF of the sink both relays send to. */
const SINK_RECV_BUFFER = 4 * 1024 * 1024;

/**
 * 512-byte datagrams through a UDP proxy the API opened and through a bare Node dgram relay in
 * the baseline process, to one sink in the bench process: the highest rate relayed without a
 * single loss, as the udp scenario finds it.
 */
async function udpRelayRows(context: BenchContext): Promise<ResultRow[]> {
  const { service, baseline, volumes, log } = context;
  const sink = createSocket({ type: 'udp4', recvBufferSize: SINK_RECV_BUFFER });
  let received = 0;
  sink.on('message', () => received++);
  await new Promise<void>((resolve) => sink.bind({ address: LOOPBACK, port: 0 }, () => resolve()));
  const sender = createSocket('udp4');
  await new Promise<void>((resolve) => sender.bind({ address: LOOPBACK, port: 0 }, () => resolve()));
  const receiver: Receiver = { counts: async () => ({ received, dropped: 0 }) };
  const bisections = volumes.udpTrialMs < 1000 ? 2 : 4;
  const created = await service.client.json<{ id: string; listen: { port: number } }>('POST', '/v1/udp/proxies', { listen: { host: LOOPBACK, port: 0 }, upstream: { host: LOOPBACK, port: sink.address().port } }, 201);
  const relay = await baseline.call('openUdpRelay', { upstreamPort: sink.address().port });
  try {
    const bareRate = await lossFreeRate((rate) => trial(sender, relay.port, receiver, rate, volumes.udpTrialMs), bisections);
    const ourRate = await lossFreeRate((rate) => trial(sender, created.listen.port, receiver, rate, volumes.udpTrialMs), bisections);
    log(`proxy: UDP relayed loss-free sockplane ${ourRate.toFixed(0)} datagrams/s, bare dgram relay ${bareRate.toFixed(0)} datagrams/s`);
    return [
      {
        scenario: 'UDP proxy: 512 B datagrams relayed to a sink without a loss',
        unit: 'datagrams/s',
        sockplane: ourRate,
        baseline: bareRate,
        baselineName: 'bare Node dgram relay, a socket per client',
        target: null,
      },
    ];
  } finally {
    await baseline.call('closeUdpRelay', {});
    await service.client.json('DELETE', `/v1/udp/proxies/${created.id}`);
    sender.close();
    sink.close();
  }
}

/**
 * A TCP proxy opened through the API (`POST /v1/tcp/proxies`, no faults) against a bare Node
 * proxy in the baseline process (each client `pipe()`d to a new upstream connection and back),
 * both in front of the same raw echo server: echo throughput through each, and the latency each
 * adds to a 64-byte round trip over the direct one (p50, p99). Rounds alternate; medians.
 */
export const proxy: Scenario = {
  name: 'proxy',
  async run(context: BenchContext) {
    const { service, baseline, volumes, log } = context;
    const echo = await startEcho();
    const created = await service.client.json<{ id: string; listen: { port: number } }>(
      'POST',
      '/v1/tcp/proxies',
      { listen: { host: LOOPBACK, port: 0 }, upstream: { host: LOOPBACK, port: echo.port } },
      201,
    );
    const bare = await baseline.call('openPipeProxy', { upstreamPort: echo.port });
    try {
      const sockplane: Target = { name: 'sockplane proxy', port: created.listen.port };
      const piped: Target = { name: 'bare pipe proxy', port: bare.port };
      const direct: Target = { name: 'echo server', port: echo.port };
      const bytes = volumes.tlsEchoBytes;
      const rounds = Math.max(2, volumes.tlsRounds);
      const rates = { sockplane: [] as number[], bare: [] as number[] };
      // One warm-up transfer each, then the measured ones alternating.
      for (let round = 0; round <= rounds; round++) {
        const ours = await throughput(sockplane, bytes);
        const theirs = await throughput(piped, bytes);
        if (round === 0) continue;
        rates.sockplane.push(ours);
        rates.bare.push(theirs);
      }
      const trips = volumes.roundTrips;
      await roundTrips(sockplane, Math.ceil(trips / 5));
      await roundTrips(piped, Math.ceil(trips / 5));
      const directTrips = await roundTrips(direct, trips);
      const ourTrips = await roundTrips(sockplane, trips);
      const theirTrips = await roundTrips(piped, trips);
      const added = (samples: number[], p: number): number => Math.max(1, percentile(samples, p) - percentile(directTrips, p));
      log(
        `proxy: echo MB/s sockplane ${rates.sockplane.map((r) => r.toFixed(0)).join(', ')}, bare ${rates.bare.map((r) => r.toFixed(0)).join(', ')}; ` +
          `round trip p50/p99 µs direct ${percentile(directTrips, 50).toFixed(0)}/${percentile(directTrips, 99).toFixed(0)}, ` +
          `sockplane ${percentile(ourTrips, 50).toFixed(0)}/${percentile(ourTrips, 99).toFixed(0)}, bare ${percentile(theirTrips, 50).toFixed(0)}/${percentile(theirTrips, 99).toFixed(0)}`,
      );
      const mib = bytes / (1024 * 1024);
      const udpRows = await udpRelayRows(context);
      return [
        {
          scenario: `TCP proxy echo throughput: ${mib} MiB each way through the proxy to a raw echo server`,
          unit: 'MB/s',
          sockplane: median(rates.sockplane),
          baseline: median(rates.bare),
          baselineName: 'bare Node proxy, socket.pipe() both ways',
          target: { on: 'ratio', atLeast: 0.7 },
        },
        {
          scenario: 'TCP proxy: latency added to a 64-byte round trip, p50 (over the direct round trip)',
          unit: 'µs',
          sockplane: added(ourTrips, 50),
          baseline: added(theirTrips, 50),
          baselineName: 'bare Node proxy, socket.pipe() both ways',
          target: { on: 'ratio', atMost: 1.3 },
        },
        {
          scenario: 'TCP proxy: latency added to a 64-byte round trip, p99',
          unit: 'µs',
          sockplane: added(ourTrips, 99),
          baseline: added(theirTrips, 99),
          baselineName: 'bare Node proxy, socket.pipe() both ways',
          target: null,
        },
        ...udpRows,
      ];
    } finally {
      await baseline.call('closePipeProxy', {});
      await service.client.json('DELETE', `/v1/tcp/proxies/${created.id}`);
      for (const socket of echo.sockets) socket.destroy();
      await new Promise<void>((resolve) => echo.server.close(() => resolve()));
    }
  },
};
