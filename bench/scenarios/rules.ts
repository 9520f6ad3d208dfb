import { Socket, connect } from 'node:net';
import { createListener, deleteListener } from '../lib/api';
import { BenchContext, Scenario } from '../lib/context';
import { LOOPBACK, cpuTimes } from '../lib/processes';
import { ResultRow, percentile } from '../lib/report';

/** The key-value rules of the Swagger example, answering every frame of the bench's clients and releasing it (a fake server that runs for good). */
const RULES = {
  rules: [
    { id: 'get', match: { regex: '^GET (?P<key>\\w+)$' }, then: [{ send: 'VALUE ${key} 42', frame: true }, { discard: true }] },
    { id: 'unknown', then: [{ send: 'ERR unknown command', frame: true }, { discard: true }] },
  ],
};
const REQUEST = 'GET colour\n';
const REPLY_BYTES = Buffer.byteLength('VALUE colour 42\r\n');
const WARM_UP = 2000;
const BATCH = 100;
/** Clients of the throughput rounds, and the requests each keeps outstanding. */
const CLIENTS = 16;
const WINDOW = 16;

/** A client of a line server: writes requests and counts whole replies as they come back. */
class LineClient {
  private replied = 0;
  private waiting: { count: number; resolve: () => void } | null = null;

  private constructor(private readonly socket: Socket) {
    let pending = 0;
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.length;
      this.replied += Math.floor(pending / REPLY_BYTES);
      pending %= REPLY_BYTES;
      if (this.waiting && this.replied >= this.waiting.count) {
        const { resolve } = this.waiting;
        this.waiting = null;
        resolve();
      }
    });
  }

  static async open(port: number): Promise<LineClient> {
    const socket = connect({ host: LOOPBACK, port, noDelay: true });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new LineClient(socket);
  }

  get replies(): number {
    return this.replied;
  }

  /** Resolves once `count` replies arrived in all. */
  until(count: number): Promise<void> {
    if (this.replied >= count) return Promise.resolve();
    return new Promise((resolve) => (this.waiting = { count, resolve }));
  }

  send(requests: number): void {
    this.socket.write(REQUEST.repeat(requests));
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Request → reply times, in ms, over one connection, after a warm-up. */
async function latencies(client: LineClient, count: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    client.send(1);
    await client.until(client.replies + 1);
    samples.push(performance.now() - start);
  }
  return samples;
}

interface Round {
  repliesPerSecond: number;
  /** CPU the server used per reply: steadier than the rate on a shared machine. */
  cpuMicrosPerReply: number;
  /** The part of it spent in the kernel (the socket calls), the rest in the server's own code. */
  systemMicrosPerReply: number;
}

/** Replies per second from `CLIENTS` connections each keeping `WINDOW` requests outstanding, for `seconds`, and the CPU server `pid` spent per reply. */
async function rate(port: number, pid: number, seconds: number): Promise<Round> {
  const cpuBefore = cpuTimes(pid);
  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => LineClient.open(port)));
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    clients.map(async (client) => {
      client.send(WINDOW);
      let asked = WINDOW;
      while (performance.now() < deadline) {
        // Keep the window full: ask again for every half window answered.
        await client.until(asked - WINDOW / 2);
        client.send(WINDOW / 2);
        asked += WINDOW / 2;
      }
      await client.until(asked);
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  const replies = clients.reduce((total, client) => total + client.replies, 0);
  clients.forEach((client) => client.close());
  const cpuAfter = cpuTimes(pid);
  const system = cpuAfter.system - cpuBefore.system;
  return { repliesPerSecond: replies / elapsed, cpuMicrosPerReply: ((cpuAfter.user - cpuBefore.user + system) * 1e6) / replies, systemMicrosPerReply: (system * 1e6) / replies };
}

/**
 * A listener of the key-value rules (lines, a regex with a named group, a framed reply) answers
 * a client's `GET colour`: no HTTP on the way. Against a bare `net` server in the baseline
 * process answering the same lines with the same regex: the p50 and p99 of one request at a time
 * on one connection (alternating batches), and replies per second from 16 pipelining clients
 * (alternating rounds). In the same rounds, as context: the bare server on re2js, and the floor
 * (`floor-line-server.ts`), which also keeps what the issue requires per chunk and frame.
 */
export const rules: Scenario = {
  name: 'rules',
  async run({ service, baseline, volumes, log }: BenchContext) {
    const listener = await createListener(service.client, { framing: { type: 'lines' }, noDelay: true, rules: RULES });
    const { port: barePort } = await baseline.call('openLineServer', {});
    const { port: re2Port } = await baseline.call('openLineServer', { engine: 're2js' });
    const { port: floorPort } = await baseline.call('openLineServer', { engine: 're2js', keep: true });
    const ours = await LineClient.open(listener.local.port);
    const bare = await LineClient.open(barePort);
    await latencies(ours, WARM_UP);
    await latencies(bare, WARM_UP);
    const [oursSamples, bareSamples]: number[][] = [[], []];
    for (let done = 0; done < volumes.roundTrips; done += BATCH) {
      oursSamples.push(...(await latencies(ours, BATCH)));
      bareSamples.push(...(await latencies(bare, BATCH)));
    }
    ours.close();
    bare.close();

    const oursRounds: Round[] = [];
    const bareRounds: Round[] = [];
    // Context, not the baseline: the bare server matching with re2js, as the rules must.
    const re2Rounds: Round[] = [];
    // Context too: the floor, the bare server on re2js also keeping, per chunk and frame, what the issue requires.
    const floorRounds: Round[] = [];
    for (let round = 0; round < volumes.loadRounds; round++) {
      oursRounds.push(await rate(listener.local.port, service.pid, volumes.loadSeconds));
      bareRounds.push(await rate(barePort, baseline.pid, volumes.loadSeconds));
      re2Rounds.push(await rate(re2Port, baseline.pid, volumes.loadSeconds));
      floorRounds.push(await rate(floorPort, baseline.pid, volumes.loadSeconds));
    }
    await baseline.call('closeLineServer', {});
    await deleteListener(service.client, listener.id);

    const median = (values: number[]): number => percentile(values, 50);
    const rows: ResultRow[] = [50, 99].map((p) => ({
      scenario: `rule reply latency (write → reply, one at a time), p${p}`,
      unit: 'ms',
      sockplane: percentile(oursSamples, p),
      baseline: percentile(bareSamples, p),
      baselineName: 'bare net line server',
      target: p === 50 ? { on: 'ratio' as const, atMost: 2 } : null,
    }));
    rows.push({
      scenario: `rule replies/s (${CLIENTS} clients × ${WINDOW} in flight), median of ${volumes.loadRounds} rounds`,
      unit: 'replies/s',
      sockplane: median(oursRounds.map((r) => r.repliesPerSecond)),
      baseline: median(bareRounds.map((r) => r.repliesPerSecond)),
      baselineName: 'bare net line server',
      target: { on: 'ratio', atLeast: 0.5 },
    });
    const [bareRate, re2Rate, floorRate] = [bareRounds, re2Rounds, floorRounds].map((rounds) => median(rounds.map((r) => r.repliesPerSecond)));
    rows.push({
      scenario: `rule replies/s against the floor (a bare server on re2js keeping what issue 18 requires), median of ${volumes.loadRounds} rounds`,
      unit: 'replies/s',
      sockplane: rows[2].sockplane,
      baseline: floorRate,
      baselineName: 'floor line server',
      target: null,
    });
    const allRounds = [oursRounds, bareRounds, re2Rounds, floorRounds];
    const [cpu, bareCpu, re2Cpu, floorCpu] = allRounds.map((rounds) => median(rounds.map((r) => r.cpuMicrosPerReply)));
    const [system, bareSystem, re2System, floorSystem] = allRounds.map((rounds) => median(rounds.map((r) => r.systemMicrosPerReply)));
    log(
      `rules: p50 ${rows[0].sockplane.toFixed(3)} ms vs ${rows[0].baseline?.toFixed(3)} ms; ${Math.round(rows[2].sockplane)} vs ${Math.round(rows[2].baseline ?? 0)} replies/s;` +
        ` CPU ${cpu.toFixed(2)} vs ${bareCpu.toFixed(2)} µs/reply, of which in the kernel ${system.toFixed(2)} vs ${bareSystem.toFixed(2)};` +
        ` the bare server on re2js: ${Math.round(re2Rate)} replies/s, CPU ${re2Cpu.toFixed(2)} µs/reply (kernel ${re2System.toFixed(2)});` +
        ` the floor: ${Math.round(floorRate)} replies/s (${(floorRate / bareRate).toFixed(2)} of the bare server, ${(floorRate / re2Rate).toFixed(2)} of it on re2js),` +
        ` CPU ${floorCpu.toFixed(2)} µs/reply (kernel ${floorSystem.toFixed(2)}; ${(floorCpu / bareCpu).toFixed(2)} and ${(floorCpu / re2Cpu).toFixed(2)} of theirs)`,
    );
    return rows;
  },
};
