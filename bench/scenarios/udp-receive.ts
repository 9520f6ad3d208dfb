import { Socket, createSocket } from 'node:dgram';
import { UdpSocketView } from '../lib/api';
import { BenchContext, Scenario } from '../lib/context';
import { HttpClient } from '../lib/http';
import { LOOPBACK } from '../lib/processes';

const PAYLOAD = Buffer.alloc(512, 0x75);
/** SO_RCVBUF asked for by both receivers, so the kernel buffers the same for each. */
const RECV_BUFFER = 4 * 1024 * 1024;
const FIRST_RATE = 20_000;
const MAX_RATE = 1_000_000;
/** A trial counts as run at its rate when the sender kept within this share of it. */
const SENDER_TOLERANCE = 0.9;

export interface Trial {
  passed: boolean;
  /** Datagrams per second actually sent. */
  achieved: number;
}

export interface Receiver {
  /** Datagrams received (for sockplane: read through the API) and dropped so far. */
  counts(): Promise<{ received: number; dropped: number }>;
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends at `rate` datagrams/s for `durationMs`, topping up to the due count on every turn of the event loop. */
async function sendPaced(socket: Socket, port: number, rate: number, durationMs: number): Promise<{ sent: number; elapsedMs: number }> {
  const total = Math.round((rate * durationMs) / 1000);
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
    for (; sent < due; sent++) socket.send(PAYLOAD, port, LOOPBACK);
    await tick();
  }
  return { sent, elapsedMs: performance.now() - start };
}

/** One trial: send at `rate`, then wait until the receiver has everything or stops making progress. */
export async function trial(sender: Socket, port: number, receiver: Receiver, rate: number, durationMs: number): Promise<Trial> {
  const before = await receiver.counts();
  const { sent, elapsedMs } = await sendPaced(sender, port, rate, durationMs);
  let last = -1;
  let now = await receiver.counts();
  while (now.received - before.received < sent && now.received !== last) {
    last = now.received;
    await sleep(250);
    now = await receiver.counts();
  }
  const achieved = sent / (elapsedMs / 1000);
  return { passed: now.received - before.received === sent && now.dropped === before.dropped, achieved };
}

/**
 * The highest rate received without a single drop (RFC 2544 style): double the rate until a
 * trial loses datagrams, then bisect. Also stops where the sender cannot go faster.
 */
export async function lossFreeRate(run: (rate: number) => Promise<Trial>, bisections: number): Promise<number> {
  let best = 0;
  let passRate = 0;
  let failRate = Number.POSITIVE_INFINITY;
  for (let rate = FIRST_RATE; rate <= MAX_RATE; rate *= 2) {
    const result = await run(rate);
    if (!result.passed) {
      failRate = rate;
      break;
    }
    best = result.achieved;
    passRate = rate;
    if (result.achieved < rate * SENDER_TOLERANCE) return best;
  }
  if (passRate === 0) {
    passRate = failRate / 8;
    const result = await run(passRate);
    if (!result.passed) return 0;
    best = result.achieved;
  }
  for (let i = 0; i < bisections && Number.isFinite(failRate); i++) {
    const rate = Math.round((passRate + failRate) / 2);
    const result = await run(rate);
    if (result.passed) {
      passRate = rate;
      best = Math.max(best, result.achieved);
    } else {
      failRate = rate;
    }
  }
  return best;
}

/** The binary form of a datagram read (see "Binary batch reads of datagrams" in docs/api.md). */
const DATAGRAM_FRAMES = 'application/vnd.sockplane.datagrams';
/** seq (8), receivedAt (8), size (4), port (2), family (1), address length (1). */
const FRAME_HEADER_BYTES = 24;

/**
 * Walks the frames of a read from `from`, checking that their seqs follow on without a gap and
 * that they fill the body exactly; answers how many there were.
 */
function countFrames(body: Buffer, from: number): number {
  let at = 0;
  let expected = from;
  while (at + FRAME_HEADER_BYTES <= body.length) {
    const seq = body.readUInt32BE(at) * 2 ** 32 + body.readUInt32BE(at + 4);
    if (seq !== expected) throw new Error(`udp: frame at byte ${at} has seq ${seq}, expected ${expected}`);
    expected++;
    at += FRAME_HEADER_BYTES + body[at + 23] + body.readUInt32BE(at + 16);
  }
  if (at !== body.length) throw new Error(`udp: frames end at byte ${at} of a ${body.length}-byte body`);
  return expected - from;
}

/**
 * Datagrams a read waits for (`minDatagrams`, within its `waitMs`): a reader asking for whatever
 * is there gets a few datagrams per request at high rates, and the requests cost more than the
 * datagrams.
 */
const BATCH = 500;

/** Reads the socket's datagrams in batches of `BATCH` to 1,000 (binary frames) and releases them, until stopped. */
class BatchReader implements Receiver {
  private received = 0;
  private dropped = 0;
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(
    private readonly client: HttpClient,
    private readonly socketId: string,
  ) {
    this.loop = this.run();
  }

  async counts(): Promise<{ received: number; dropped: number }> {
    return { received: this.received, dropped: this.dropped };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  private async run(): Promise<void> {
    const path = `/v1/udp/sockets/${this.socketId}/datagrams`;
    let next = 0;
    let release: Promise<unknown> = Promise.resolve();
    while (!this.stopped) {
      const read = await this.client.send('GET', `${path}?from=${next}&max=1000&minDatagrams=${BATCH}&waitMs=100`, { headers: { accept: DATAGRAM_FRAMES } });
      if (read.status !== 200 || read.headers['content-type'] !== DATAGRAM_FRAMES) {
        throw new Error(`udp: a read answered ${read.status} ${String(read.headers['content-type'])}: ${read.body.toString('utf8').slice(0, 500)}`);
      }
      const count = countFrames(read.body, next);
      const nextSeq = Number(read.headers['sockplane-next-seq']);
      if (nextSeq !== next + count) throw new Error(`udp: ${count} frames from seq ${next}, but Sockplane-Next-Seq says ${nextSeq}`);
      this.received += count;
      this.dropped = Number(read.headers['sockplane-dropped']);
      if (count === 0) continue;
      next = nextSeq;
      await release;
      release = this.client.send('DELETE', `${path}?upTo=${next}`);
    }
    await release;
  }
}

/** 512-byte datagrams into one socket: the highest rate received without drops, sockplane (read in batches) against a raw dgram receiver. */
export const udpReceive: Scenario = {
  name: 'udp',
  async run({ service, baseline, volumes, log }: BenchContext) {
    const sender = createSocket('udp4');
    await new Promise<void>((resolve) => sender.bind({ address: LOOPBACK, port: 0 }, () => resolve()));
    const bisections = volumes.udpTrialMs < 1000 ? 2 : 4;

    const raw = await baseline.call('openUdpReceiver', { recvBufferSize: RECV_BUFFER });
    const rawReceiver: Receiver = { counts: async () => ({ received: (await baseline.call('udpReceived', {})).received, dropped: 0 }) };
    const rawRate = await lossFreeRate((rate) => trial(sender, raw.port, rawReceiver, rate, volumes.udpTrialMs), bisections);
    await baseline.call('closeUdpReceiver', {});

    const socket = await service.client.json<UdpSocketView>('POST', '/v1/udp/sockets', { type: 'udp4', host: LOOPBACK, port: 0, recvBufferSize: RECV_BUFFER }, 201);
    const reader = new BatchReader(service.client, socket.id);
    const sockplaneRate = await lossFreeRate((rate) => trial(sender, socket.local.port, reader, rate, volumes.udpTrialMs), bisections);
    await reader.stop();
    await service.client.json('DELETE', `/v1/udp/sockets/${socket.id}`);
    sender.close();

    log(`udp: loss-free sockplane ${sockplaneRate.toFixed(0)} datagrams/s, raw dgram ${rawRate.toFixed(0)} datagrams/s`);
    return [
      {
        scenario: 'UDP 512 B datagrams received without drops, read in batches',
        unit: 'datagrams/s',
        sockplane: sockplaneRate,
        baseline: rawRate,
        baselineName: 'raw dgram receiver',
        target: { on: 'ratio', atLeast: 0.5 },
      },
    ];
  },
};
