import { join } from 'node:path';
import { acceptedConnection, createListener, deleteListener } from '../lib/api';
import { BenchContext, Scenario } from '../lib/context';
import { HttpClient } from '../lib/http';
import { connectTo, writeAll } from '../lib/peers';
import { REPO_ROOT } from '../lib/processes';
import { ResultRow } from '../lib/report';

const FRAME_BYTES = 64;
/** 63 bytes of text and a newline: one 64-byte line frame. */
const LINE = Buffer.from(`${'x'.repeat(FRAME_BYTES - 1)}\n`);
/** Lines are written in chunks of this many, as a peer writing a stream of them would. */
const WRITE_CHUNK = Buffer.concat(Array.from({ length: 1024 }, () => LINE));
/** The binary form of a frame read (docs/framing.md). */
const FRAMES_TYPE = 'application/vnd.sockplane.frames';
const FRAME_HEADER_BYTES = 36;
/** Frames a read asks for (the most a read returns) and waits for. */
const BATCH = 10_000;

/** Walks a binary frame read from index `from`, checking the indexes follow on and fill the body; answers the count. */
function countFrames(body: Buffer, from: number): number {
  let at = 0;
  let expected = from;
  while (at + FRAME_HEADER_BYTES <= body.length) {
    const index = body.readUInt32BE(at) * 2 ** 32 + body.readUInt32BE(at + 4);
    if (index !== expected) throw new Error(`frames: record at byte ${at} has index ${index}, expected ${expected}`);
    expected++;
    at += FRAME_HEADER_BYTES + body.readUInt32BE(at + 32);
  }
  if (at !== body.length) throw new Error(`frames: records end at byte ${at} of a ${body.length}-byte body`);
  return expected - from;
}

/** Frames read (and released) per second through `…/frames`, binary, until `total` arrived. */
async function readFrames(client: HttpClient, id: string, total: number): Promise<void> {
  const path = `/v1/tcp/connections/${id}/frames`;
  let next = 0;
  while (next < total) {
    const read = await client.send('GET', `${path}?from=${next}&max=${BATCH}&minFrames=${BATCH}&waitMs=1000`, { headers: { accept: FRAMES_TYPE } });
    if (read.status !== 200) throw new Error(`frames: a read answered ${read.status}: ${read.body.toString('utf8').slice(0, 300)}`);
    next += countFrames(read.body, next);
    await client.send('DELETE', `${path}?upTo=${next}`);
  }
}

/** The same through `…/buffer` as raw octets, until `total` bytes arrived. */
async function readBytes(client: HttpClient, id: string, total: number): Promise<void> {
  const path = `/v1/tcp/connections/${id}/buffer`;
  let next = 0;
  while (next < total) {
    const read = await client.send('GET', `${path}?from=${next}&maxBytes=${16 * 1024 * 1024}&waitMs=1000`, { headers: { accept: 'application/octet-stream' } });
    if (read.status !== 200) throw new Error(`frames: a byte read answered ${read.status}`);
    next = Number(read.headers['sockplane-next-offset']);
    await client.send('DELETE', `${path}?upTo=${next}`);
  }
}

/** A peer writes `bytes` of lines into a listener's connection while `read` takes them; answers the seconds it took. */
async function timedTransfer(client: HttpClient, framing: object, bytes: number, read: (id: string) => Promise<void>): Promise<number> {
  const listener = await createListener(client, { framing });
  try {
    const peer = await connectTo(listener.local.port);
    const { id } = await acceptedConnection(client, listener.id, 1);
    const start = performance.now();
    await Promise.all([writeAll(peer, bytes, WRITE_CHUNK), read(id)]);
    const seconds = (performance.now() - start) / 1000;
    peer.destroy();
    return seconds;
  } finally {
    await deleteListener(client, listener.id);
  }
}

/** The runtime framer as the service's build has it (the bench compiles apart from src/, so it is loaded from dist/). */
interface Framer {
  push(chunk: Buffer, emit: (frame: { dataFrom: number; dataTo: number }) => void): unknown;
}
type CreateFramer = (framing: object, offset: number) => Framer;

async function loadFramers(): Promise<{ createFramer: CreateFramer; lines: object }> {
  const { createFramer } = (await import(join(REPO_ROOT, 'dist', 'sockets', 'framing', 'framers.js'))) as { createFramer: CreateFramer };
  const { FRAMING_PRESETS } = (await import(join(REPO_ROOT, 'dist', 'sockets', 'framing', 'framing.js'))) as { FRAMING_PRESETS: { lines: object } };
  return { createFramer, lines: FRAMING_PRESETS.lines };
}

/** 64 KiB chunks of 64-byte lines, cut at 64 KiB + 7 so lines straddle the chunks as they do off a socket. */
function chunksOf(bytes: number): Buffer[] {
  const stream = Buffer.alloc(bytes);
  for (let at = 0; at < bytes; at += LINE.length) LINE.copy(stream, at);
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes; at += 65536 + 7) chunks.push(stream.subarray(at, Math.min(bytes, at + 65536 + 7)));
  return chunks;
}

/** MB/s of `split` over `chunks`: the best of a few rounds, after a warm-up. */
function megabytesPerSecond(chunks: Buffer[], split: () => number, expected: number): number {
  const bytes = chunks.reduce((total, chunk) => total + chunk.length, 0);
  let best = 0;
  for (let round = 0; round < 6; round++) {
    const start = performance.now();
    const frames = split();
    const seconds = (performance.now() - start) / 1000;
    if (frames !== expected) throw new Error(`frames: a split found ${frames} frames, expected ${expected}`);
    if (round > 0) best = Math.max(best, bytes / 1e6 / seconds);
  }
  return best;
}

/** The plain loop the framer is measured against: `indexOf('\n')` over each chunk, a partial line carried over by its length. */
function indexOfSplit(chunks: Buffer[]): number {
  let frames = 0;
  let sizes = 0;
  let pending = 0;
  for (const chunk of chunks) {
    let at = 0;
    for (let end = chunk.indexOf(0x0a, at); end >= 0; end = chunk.indexOf(0x0a, at)) {
      sizes += pending + end - at;
      pending = 0;
      frames++;
      at = end + 1;
    }
    pending += chunk.length - at;
  }
  // The sizes are used, so neither loop's work on them can be optimised away.
  return sizes >= 0 ? frames : -1;
}

/** 64-byte line frames: read through the API against the same bytes read as a byte stream; the framer itself against a Buffer.indexOf split. */
export const frames: Scenario = {
  name: 'frames',
  async run({ service, volumes, log }: BenchContext): Promise<ResultRow[]> {
    const bytes = Math.floor(volumes.streamBytes / 8 / LINE.length) * LINE.length;
    const count = bytes / LINE.length;
    const client = service.client;
    const frameSeconds = await timedTransfer(client, { type: 'lines' }, bytes, (id) => readFrames(client, id, count));
    const byteSeconds = await timedTransfer(client, { type: 'none' }, bytes, (id) => readBytes(client, id, bytes));
    log(`frames: ${count} line frames in ${frameSeconds.toFixed(2)} s; the same bytes as a byte stream in ${byteSeconds.toFixed(2)} s`);

    const { createFramer, lines } = await loadFramers();
    const chunks = chunksOf(Math.min(volumes.streamBytes / 4, 64 * 1024 * 1024));
    const expected = Math.floor(chunks.reduce((total, chunk) => total + chunk.length, 0) / LINE.length);
    const newline = { type: 'delimiter', delimiters: [Buffer.from('\n')], opener: null, includeDelimiter: false, maxFrameBytes: 1 << 20 };
    const framerSplit = (framing: object) => (): number => {
      const framer = createFramer(framing, 0);
      let found = 0;
      let sizes = 0;
      const emit = (frame: { dataFrom: number; dataTo: number }): void => {
        found++;
        sizes += frame.dataTo - frame.dataFrom;
      };
      for (const chunk of chunks) framer.push(chunk, emit);
      return sizes >= 0 ? found : -1;
    };
    const plain = megabytesPerSecond(chunks, () => indexOfSplit(chunks), expected);
    const framer = megabytesPerSecond(chunks, framerSplit(newline), expected);
    const linesPreset = megabytesPerSecond(chunks, framerSplit(lines), expected);
    log(`frames: framer ${framer.toFixed(0)} MB/s (lines preset ${linesPreset.toFixed(0)} MB/s), Buffer.indexOf split ${plain.toFixed(0)} MB/s`);

    return [
      {
        scenario: '64 B line frames read through the API (binary, 10,000 a read)',
        unit: 'frames/s',
        sockplane: count / frameSeconds,
        baseline: count / byteSeconds,
        baselineName: 'the same bytes read as a byte stream, in 64 B frames',
        target: null,
      },
      { scenario: 'Framer, 64 B lines split at LF, in-process', unit: 'MB/s', sockplane: framer, baseline: plain, baselineName: 'Buffer.indexOf split loop', target: { on: 'ratio', atLeast: 0.5 } },
      { scenario: 'Framer, preset lines (CRLF or LF), in-process', unit: 'MB/s', sockplane: linesPreset, baseline: plain, baselineName: 'Buffer.indexOf split loop', target: null },
    ];
  },
};
