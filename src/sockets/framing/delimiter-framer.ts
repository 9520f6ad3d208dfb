import { DelimiterFraming, FrameBounds, Framer, FramingFault } from './framing';

/**
 * Frames that end at a delimiter. Each chunk is searched once per delimiter: where a delimiter
 * next occurs in the chunk is remembered, and looked for again only once a frame has passed it,
 * so k delimiters cost k scans of the bytes however many frames a chunk holds. A delimiter
 * straddling two chunks is found in the few bytes kept from the end of the earlier ones.
 */
export class DelimiterFramer implements Framer {
  private start: number;
  /** Offset of the next byte to arrive. */
  private end: number;
  /** The last bytes of the current frame (fewer than the longest delimiter), where a delimiter may have begun. */
  private tail = EMPTY;
  /** The current frame's first bytes, up to the opener's length, to tell whether it starts with the opener. */
  private head = EMPTY;
  private faulted = false;
  private readonly longest: number;
  private readonly nextAt: number[];

  constructor(
    private readonly framing: DelimiterFraming,
    offset: number,
  ) {
    this.start = offset;
    this.end = offset;
    this.longest = Math.max(...framing.delimiters.map((d) => d.length));
    this.nextAt = framing.delimiters.map(() => -1);
  }

  get frameStart(): number {
    return this.start;
  }

  push(chunk: Buffer, emit: (frame: FrameBounds) => void): FramingFault | null {
    if (this.faulted || chunk.length === 0) return null;
    const chunkStart = this.end;
    this.end += chunk.length;
    const delimiters = this.framing.delimiters;
    const nextAt = this.nextAt;
    nextAt.fill(-1);
    let pos = 0;
    if (this.tail.length > 0) {
      const straddling = this.straddling(chunk);
      if (straddling) {
        const fault = this.complete(chunkStart + straddling.end - straddling.length, straddling.length, chunk, chunkStart, emit);
        if (fault) return fault;
        pos = straddling.end;
      }
    }
    for (;;) {
      let at = -1;
      let length = 0;
      for (let d = 0; d < delimiters.length; d++) {
        if (nextAt[d] !== Infinity && nextAt[d] < pos) {
          const found = chunk.indexOf(delimiters[d], pos);
          nextAt[d] = found < 0 ? Infinity : found;
        }
        const candidate = nextAt[d];
        if (candidate === Infinity) continue;
        if (at < 0 || candidate < at || (candidate === at && delimiters[d].length > length)) {
          at = candidate;
          length = delimiters[d].length;
        }
      }
      if (at < 0) break;
      const fault = this.complete(chunkStart + at, length, chunk, chunkStart, emit);
      if (fault) return fault;
      pos = at + length;
    }
    this.keepTail(chunk, chunkStart);
    this.keepHead(chunk, chunkStart);
    return this.overlong();
  }

  /** The earliest delimiter beginning in `tail` and ending in `chunk`: where in the chunk it ends. */
  private straddling(chunk: Buffer): { end: number; length: number } | null {
    const tail = this.tail;
    const joint = Buffer.concat([tail, chunk.subarray(0, this.longest - 1)]);
    let best: { start: number; length: number } | null = null;
    for (const delimiter of this.framing.delimiters) {
      const found = joint.indexOf(delimiter);
      if (found < 0 || found >= tail.length || found + delimiter.length <= tail.length) continue;
      if (!best || found < best.start || (found === best.start && delimiter.length > best.length)) best = { start: found, length: delimiter.length };
    }
    return best ? { end: best.start + best.length - tail.length, length: best.length } : null;
  }

  /** A delimiter of `length` bytes at stream offset `at` ends the current frame. */
  private complete(at: number, length: number, chunk: Buffer, chunkStart: number, emit: (frame: FrameBounds) => void): FramingFault | null {
    const from = this.start;
    const to = at + length;
    this.keepHead(chunk, chunkStart, to);
    const opened = this.opensWithOpener(from, at);
    const include = this.framing.includeDelimiter;
    const dataFrom = include || !opened ? from : from + (this.framing.opener?.length ?? 0);
    const dataTo = include ? to : at;
    const size = at - (opened ? from + (this.framing.opener?.length ?? 0) : from);
    if (size > this.framing.maxFrameBytes) return this.fault(`a frame of ${size} bytes is over maxFrameBytes ${this.framing.maxFrameBytes}`);
    this.start = to;
    this.tail = EMPTY;
    this.head = EMPTY;
    emit({ from, to, dataFrom, dataTo });
    return null;
  }

  private opensWithOpener(from: number, at: number): boolean {
    const opener = this.framing.opener;
    return opener !== null && at - from >= opener.length && this.head.subarray(0, opener.length).equals(opener);
  }

  /** Keeps the current frame's first bytes (those in `chunk` before `limit`) while fewer than the opener's length are known. */
  private keepHead(chunk: Buffer, chunkStart: number, limit = chunkStart + chunk.length): void {
    const opener = this.framing.opener;
    if (opener === null || this.head.length >= opener.length) return;
    const from = Math.max(this.start + this.head.length, chunkStart) - chunkStart;
    const to = Math.min(limit - chunkStart, from + opener.length - this.head.length);
    if (to > from) this.head = Buffer.concat([this.head, chunk.subarray(from, to)]);
  }

  /** Copies the last bytes of the current frame, where the next chunk may finish a delimiter. */
  private keepTail(chunk: Buffer, chunkStart: number): void {
    const keep = Math.min(this.longest - 1, this.end - this.start);
    if (keep <= 0) {
      this.tail = EMPTY;
      return;
    }
    const fromChunk = Math.min(keep, chunk.length);
    const fromTail = keep - fromChunk;
    const ownStart = Math.max(chunk.length - fromChunk, this.start - chunkStart);
    this.tail = Buffer.concat([this.tail.subarray(this.tail.length - fromTail), chunk.subarray(ownStart)]);
  }

  /**
   * A frame is over the limit as soon as its pending bytes, less what could still turn out to be
   * its opener and the start of a delimiter, pass it: no later byte can make it valid.
   */
  private overlong(): FramingFault | null {
    const pending = this.end - this.start - (this.longest - 1) - (this.framing.opener?.length ?? 0);
    if (pending <= this.framing.maxFrameBytes) return null;
    return this.fault(`no delimiter within maxFrameBytes ${this.framing.maxFrameBytes}: ${this.end - this.start} bytes since the frame began`);
  }

  private fault(message: string): FramingFault {
    this.faulted = true;
    return { offset: this.start, message };
  }
}

const EMPTY = Buffer.alloc(0);
