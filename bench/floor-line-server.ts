/**
 * The floor of the rules scenario (issue 18): a bare line server doing, per frame, the least the
 * issue requires of a server answering it with rules, in its simplest form and with no sockplane
 * code. Each received chunk goes into a byte log and a `data` event; each line becomes a frame
 * record in a frame log and a `frame` event, is matched, counted on its rule, recorded as a
 * `matched` event, answered and released. The events go into a ring of preallocated columns and
 * their payloads are copied into a preallocated byte ring, as an event history that lets streams
 * resume must keep them. Nothing reads the logs or the ring here: they cost what keeping them
 * costs, which is what the floor measures.
 */
import { Socket } from 'node:net';
import { RE2JS } from 're2js';

/** Events the ring holds, as sockplane's event history holds by default. */
const EVENT_CAPACITY = 10_000;
const PAYLOAD_RING_BYTES = 4 * 1024 * 1024;
/** Most bytes of one payload the ring takes, as sockplane's per-event cap by default. */
const PAYLOAD_MAX_BYTES = 64 * 1024;
const LF = 0x0a;
const CR = 0x0d;

type EventType = 'data' | 'frame' | 'matched';
type EventData = { from: number; to: number; byteCount: number } | { index: number; from: number; to: number; size: number } | { ruleId: string; index: number };

/** What the data column's slots hold before their first event. */
const UNSET_DATA: EventData = { from: 0, to: 0, byteCount: 0 };

/**
 * The most recent events, each its slot in preallocated columns (type, resource id, time, data),
 * its payload copied into one preallocated byte ring at a position counting every byte written
 * before it, so a reader can tell whether it is still held.
 */
class EventRing {
  private recorded = 0;
  private readonly types = new Array<EventType>(EVENT_CAPACITY).fill('data');
  private readonly resourceIds = new Array<string>(EVENT_CAPACITY).fill('');
  private readonly at = new Float64Array(EVENT_CAPACITY);
  private readonly data = new Array<EventData>(EVENT_CAPACITY).fill(UNSET_DATA);
  /** Where each event's payload starts in the ring's stream of bytes, -1 for none. */
  private readonly payloadStarts = new Float64Array(EVENT_CAPACITY);
  private readonly payloadLengths = new Float64Array(EVENT_CAPACITY);
  private readonly payloads = Buffer.allocUnsafeSlow(PAYLOAD_RING_BYTES);
  /** Bytes written to the payload ring so far, the ends skipped so that no payload wraps included. */
  private payloadEnd = 0;

  record(type: EventType, resourceId: string, at: number, data: EventData, payload: Buffer | null): void {
    const slot = this.recorded++ % EVENT_CAPACITY;
    this.types[slot] = type;
    this.resourceIds[slot] = resourceId;
    this.at[slot] = at;
    this.data[slot] = data;
    if (payload === null) {
      this.payloadStarts[slot] = -1;
      this.payloadLengths[slot] = 0;
      return;
    }
    const kept = payload.subarray(0, PAYLOAD_MAX_BYTES);
    const offset = this.payloadEnd % PAYLOAD_RING_BYTES;
    if (offset + kept.length > PAYLOAD_RING_BYTES) this.payloadEnd += PAYLOAD_RING_BYTES - offset;
    kept.copy(this.payloads, this.payloadEnd % PAYLOAD_RING_BYTES);
    this.payloadStarts[slot] = this.payloadEnd;
    this.payloadLengths[slot] = kept.length;
    this.payloadEnd += kept.length;
  }
}

/** A rule's match count and last match time, as the API reports them per rule. */
interface RuleCount {
  readonly id: string;
  matches: number;
  lastMatchAt: Date | null;
}

/** A line of the connection, numbered from 0, and its bytes in the byte log (its LF included). */
interface Frame {
  index: number;
  from: number;
  to: number;
  receivedAt: Date;
}

/** The received chunks held, each with the offset of its first byte; offsets count every byte received. */
class ByteLog {
  private readonly chunks: { start: number; bytes: Buffer }[] = [];
  /** The offset the next received byte gets. */
  end = 0;

  append(bytes: Buffer): void {
    this.chunks.push({ start: this.end, bytes });
    this.end += bytes.length;
  }

  /** The bytes in [from, to): a view of the chunk holding them all, else (a line cut across chunks) a copy. */
  read(from: number, to: number): Buffer {
    let i = this.chunks.length - 1;
    while (this.chunks[i].start > from) i--;
    const { start, bytes } = this.chunks[i];
    if (to - start <= bytes.length) return bytes.subarray(from - start, to - start);
    const pieces = [bytes.subarray(from - start)];
    for (i++; i < this.chunks.length; i++) pieces.push(this.chunks[i].bytes);
    return Buffer.concat(pieces, to - from);
  }

  /** Drops the chunks that end at or before `offset`; a chunk partly released stays until its end is. */
  releaseUpTo(offset: number): void {
    while (this.chunks.length > 0 && this.chunks[0].start + this.chunks[0].bytes.length <= offset) this.chunks.shift();
  }
}

/** One connection's logs and its answers: the rules scenario's `get` and `unknown` rules, each answered frame released. */
class FloorConnection {
  private readonly bytes = new ByteLog();
  private readonly frames: Frame[] = [];
  private nextIndex = 0;
  /** Where the line being received starts. */
  private lineFrom = 0;

  constructor(
    private readonly id: string,
    private readonly floor: FloorLineServer,
  ) {}

  /** Takes a received chunk and answers the replies to the lines it completes (empty when none). */
  receive(chunk: Buffer): string {
    const receivedAt = new Date();
    const at = receivedAt.getTime();
    const chunkFrom = this.bytes.end;
    this.bytes.append(chunk);
    this.floor.events.record('data', this.id, at, { from: chunkFrom, to: this.bytes.end, byteCount: chunk.length }, chunk);
    let replies = '';
    for (let lf = chunk.indexOf(LF); lf !== -1; lf = chunk.indexOf(LF, lf + 1)) {
      const frame: Frame = { index: this.nextIndex++, from: this.lineFrom, to: chunkFrom + lf + 1, receivedAt };
      this.lineFrom = frame.to;
      this.frames.push(frame);
      replies += this.answer(frame, at);
    }
    return replies;
  }

  private answer(frame: Frame, at: number): string {
    const line = this.bytes.read(frame.from, frame.to - 1);
    const payload = line.length > 0 && line[line.length - 1] === CR ? line.subarray(0, -1) : line;
    const { events, get, unknown, getLine } = this.floor;
    events.record('frame', this.id, at, { index: frame.index, from: frame.from, to: frame.to, size: payload.length }, payload);
    // re2js as the rules run it: on the frame's bytes, with every group in one run.
    const groups: number[] | null = getLine.findUTF8SubmatchIndex(payload);
    const key = groups === null ? undefined : payload.toString('latin1', groups[2], groups[3]);
    const rule = key === undefined ? unknown : get;
    rule.matches++;
    rule.lastMatchAt = frame.receivedAt;
    events.record('matched', this.id, at, { ruleId: rule.id, index: frame.index }, null);
    const reply = key === undefined ? 'ERR unknown command\r\n' : `VALUE ${key} 42\r\n`;
    this.releaseFramesUpTo(frame.index + 1);
    return reply;
  }

  /** The rules' `discard`: drops the frames below `index` and the bytes before their end. */
  private releaseFramesUpTo(index: number): void {
    while (this.frames.length > 0 && this.frames[0].index < index) {
      const released = this.frames[0];
      this.frames.shift();
      this.bytes.releaseUpTo(released.to);
    }
  }
}

/** The floor's state shared by its connections, as a listener's rules and the service's event history are. */
export class FloorLineServer {
  readonly events = new EventRing();
  readonly get: RuleCount = { id: 'get', matches: 0, lastMatchAt: null };
  readonly unknown: RuleCount = { id: 'unknown', matches: 0, lastMatchAt: null };
  private connections = 0;

  constructor(readonly getLine: ReturnType<RE2JS['re2']>) {}

  /** Answers the connection's lines, one write per chunk with all its replies, as the bare server. */
  serve(socket: Socket): void {
    const connection = new FloorConnection(`tc_${++this.connections}`, this);
    socket.on('data', (chunk: Buffer) => {
      const replies = connection.receive(chunk);
      if (replies !== '') socket.write(replies, 'latin1');
    });
  }
}
