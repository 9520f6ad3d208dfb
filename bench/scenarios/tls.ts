import { SecureContext, TLSSocket, connect, createSecureContext } from 'node:tls';
import { createListener, deleteListener } from '../lib/api';
import { echoThroughput } from '../lib/echo-stream';
import { BenchContext, Scenario } from '../lib/context';
import { LOOPBACK, cpuSeconds } from '../lib/processes';
import { percentile } from '../lib/report';

/** Handshakes in flight at once. */
const IN_FLIGHT = 16;
/** Handshakes each server gets before the measured rounds (at most; half a round in --quick): optimised code, and sockplane's leaf for `localhost` minted and cached. */
const WARM_UP = 200;
/** The name the client asks for (SNI) and checks: sockplane mints its leaf, the baseline's certificate carries it. */
const SERVERNAME = 'localhost';
/** No handshake round or echo transfer may take longer. */
const ROUND_TIMEOUT_MS = 60_000;

interface Server {
  name: string;
  port: number;
  pid: number;
  /** Trusts the server's certificate (sockplane's instance CA, the baseline's self-signed one). */
  context: SecureContext;
}

function withTimeout<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ROUND_TIMEOUT_MS} ms`)), ROUND_TIMEOUT_MS);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** A verified TLS connection (the chain and the name checked); no session passed, so every handshake is a full one. */
function handshake(server: Server): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: LOOPBACK, port: server.port, servername: SERVERNAME, secureContext: server.context });
    socket.once('secureConnect', () => {
      socket.off('error', reject);
      socket.on('error', () => socket.destroy());
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** `count` handshakes, at most `IN_FLIGHT` at a time, each connect → secureConnect → end → the server's close; handshakes/s and the server's CPU per handshake. */
async function handshakes(server: Server, count: number): Promise<{ perSecond: number; cpuMicros: number }> {
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started < count) {
      started++;
      // A graceful close, waited for: the server reads the client's Finished before the FIN, so
      // its side of the handshake completes too (a destroy right after secureConnect reset the
      // connection before sockplane's side had finished: every one counted as failed).
      const socket = await handshake(server);
      await new Promise((resolve) => {
        socket.once('close', resolve);
        socket.resume();
        socket.end();
      });
    }
  };
  const cpuBefore = cpuSeconds(server.pid);
  const start = performance.now();
  await withTimeout(Promise.all(Array.from({ length: Math.min(IN_FLIGHT, count) }, worker)), `${count} handshakes with ${server.name}`);
  const elapsed = performance.now() - start;
  return { perSecond: count / (elapsed / 1000), cpuMicros: ((cpuSeconds(server.pid) - cpuBefore) * 1e6) / count };
}

/** Streams `total` bytes to the echo server over one TLS connection and reads them all back; MB/s (10⁶ bytes/s), first byte written to last one echoed. */
async function echo(server: Server, total: number): Promise<number> {
  const socket = await handshake(server);
  try {
    return await echoThroughput(socket, total, server.name, (work) => withTimeout(work, `echo of ${total} bytes through ${server.name}`));
  } finally {
    socket.destroy();
  }
}

/** sockplane's `sockplane_tls_handshakes_total` by outcome, from /metrics: a client closing right after its handshake must not fail the server's. */
async function handshakeOutcomes(context: BenchContext): Promise<{ established: number; failed: number }> {
  const text = (await context.service.client.send('GET', '/metrics')).body.toString('utf8');
  const count = (outcome: string): number => Number(new RegExp(`^sockplane_tls_handshakes_total\\{outcome="${outcome}"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { established: count('established'), failed: count('failed') };
}

const median = (values: number[]): number => percentile(values, 50);
const each = (values: number[], digits = 0): string => values.map((v) => v.toFixed(digits)).join(', ');

/**
 * Full TLS handshakes per second and TLS echo throughput against an implicit-TLS echo listener
 * sockplane opened through its API (the socket path: no HTTP once it is set up), each against a
 * bare Node `tls` echo server in the baseline process. The same client (this process, trusting
 * each server's certificate, SNI `localhost`) drives both; rounds alternate; medians.
 */
export const tls: Scenario = {
  name: 'tls',
  async run(context: BenchContext) {
    const { service, baseline, volumes, log } = context;
    const caPem = (await service.client.send('GET', '/v1/tls/ca?format=pem')).body.toString('utf8');
    const listener = await createListener(service.client, { mode: 'echo', backlog: 4096, tls: { mode: 'implicit' } });
    const bareEcho = await baseline.call('openTlsEcho', {});
    try {
      const sockplane: Server = { name: 'sockplane', port: listener.local.port, pid: service.pid, context: createSecureContext({ ca: caPem }) };
      const bare: Server = { name: 'bare Node tls', port: bareEcho.port, pid: baseline.pid, context: createSecureContext({ ca: bareEcho.certificate }) };

      const warmUp = Math.min(WARM_UP, Math.ceil(volumes.tlsHandshakes / 2));
      const outcomesBefore = await handshakeOutcomes(context);
      await handshakes(sockplane, warmUp);
      await handshakes(bare, warmUp);
      const rounds = { sockplane: [] as number[], bare: [] as number[], sockplaneCpu: [] as number[], bareCpu: [] as number[] };
      for (let round = 0; round < volumes.tlsRounds; round++) {
        const ours = await handshakes(sockplane, volumes.tlsHandshakes);
        const theirs = await handshakes(bare, volumes.tlsHandshakes);
        rounds.sockplane.push(ours.perSecond);
        rounds.sockplaneCpu.push(ours.cpuMicros);
        rounds.bare.push(theirs.perSecond);
        rounds.bareCpu.push(theirs.cpuMicros);
      }

      const outcomes = await handshakeOutcomes(context);
      log(
        `tls: sockplane's handshakes during the rounds: ${outcomes.established - outcomesBefore.established} established, ` +
          `${outcomes.failed - outcomesBefore.failed} failed (of ${warmUp + volumes.tlsRounds * volumes.tlsHandshakes})`,
      );

      // One warm-up transfer each (TCP windows, optimised code), then the measured ones alternating.
      const echoRounds = Math.max(1, Math.ceil(volumes.tlsRounds / 2));
      const echoes = { sockplane: [] as number[], bare: [] as number[] };
      for (let round = 0; round <= echoRounds; round++) {
        const ours = await echo(sockplane, volumes.tlsEchoBytes);
        const theirs = await echo(bare, volumes.tlsEchoBytes);
        if (round === 0) continue;
        echoes.sockplane.push(ours);
        echoes.bare.push(theirs);
      }

      log(
        `tls: handshakes/s sockplane ${each(rounds.sockplane)} (${each(rounds.sockplaneCpu)} µs CPU/handshake), ` +
          `bare ${each(rounds.bare)} (${each(rounds.bareCpu)} µs CPU/handshake); echo MB/s sockplane ${each(echoes.sockplane)}, bare ${each(echoes.bare)}`,
      );
      const mib = volumes.tlsEchoBytes / (1024 * 1024);
      return [
        {
          scenario: `TLS full handshakes (EC P-256, TLS 1.3, ${IN_FLIGHT} in flight) on an implicit-TLS listener`,
          unit: 'handshakes/s',
          sockplane: median(rounds.sockplane),
          baseline: median(rounds.bare),
          baselineName: 'bare Node tls server',
          target: { on: 'ratio', atLeast: 0.5 },
        },
        {
          scenario: `TLS handshake: server CPU per handshake`,
          unit: 'µs',
          sockplane: median(rounds.sockplaneCpu),
          baseline: median(rounds.bareCpu),
          baselineName: 'bare Node tls server',
          target: null,
        },
        {
          scenario: `TLS echo: client streams ${mib} MiB through an echo listener and reads it back (socket path)`,
          unit: 'MB/s',
          sockplane: median(echoes.sockplane),
          baseline: median(echoes.bare),
          baselineName: 'bare Node tls echo, socket.pipe(socket)',
          target: null,
        },
      ];
    } finally {
      await baseline.call('closeTlsEcho', {});
      await deleteListener(service.client, listener.id);
    }
  },
};
