import { Queue } from './queue';

/** A slice of the log: `data` holds the bytes in [from, to). */
export interface ByteLogSlice {
  from: number;
  to: number;
  data: Buffer;
}

/** A slice of the log as the received chunks hold it: `chunks` together are the bytes in [from, to). */
export interface ByteLogChunks {
  from: number;
  to: number;
  chunks: Buffer[];
}

/** Stands in for a released chunk until the queue is compacted. */
const RELEASED = Buffer.alloc(0);

/**
 * Received bytes addressed by absolute offsets (the first byte ever received is offset 0).
 * Reads never consume; `releaseUpTo` frees what the reader has processed. Chunks are kept as
 * received and sliced on read, so neither append nor read copies more than it returns.
 */
export class ByteLog {
  /** The held chunks, each keyed by the absolute offset of its first byte. */
  private readonly chunks = new Queue<Buffer>(RELEASED, true);
  private start = 0;
  private end = 0;

  /** The oldest offset still held. */
  get oldestOffset(): number {
    return this.start;
  }

  /** The offset the next received byte will get (= total bytes ever received). */
  get endOffset(): number {
    return this.end;
  }

  get heldBytes(): number {
    return this.end - this.start;
  }

  append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk, this.end);
    this.end += chunk.length;
  }

  /** Counts bytes that were handled without being kept (echo and discard modes). */
  skip(byteCount: number): void {
    this.releaseUpTo(this.end);
    this.end += byteCount;
    this.start = this.end;
  }

  /** Up to `maxBytes` bytes from `from`; `from` must lie within [oldestOffset, endOffset]. */
  read(from: number, maxBytes: number): ByteLogSlice {
    const { to, chunks } = this.chunksOf(from, maxBytes);
    return { from, to, data: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, to - from) };
  }

  /** The bytes `read` gives, without the slice around them: a view of the chunk that holds them all, else a copy. */
  bytes(from: number, maxBytes: number): Buffer {
    const to = Math.min(this.end, from + maxBytes);
    if (to > from) {
      const i = this.chunkIndexAt(from);
      const chunkStart = this.chunks.keyAt(i);
      const chunk = this.chunks.at(i);
      if (to - chunkStart <= chunk.length) return chunk.subarray(from - chunkStart, to - chunkStart);
    }
    return this.read(from, maxBytes).data;
  }

  /**
   * The same bytes as `read`, as views of the received chunks that hold them (in order) rather
   * than one buffer: a large read answered as raw octets goes out without being copied first.
   */
  chunksOf(from: number, maxBytes: number): ByteLogChunks {
    const to = Math.min(this.end, from + maxBytes);
    const chunks: Buffer[] = [];
    if (to <= from) return { from, to: from, chunks };
    for (let i = this.chunkIndexAt(from); i < this.chunks.length; i++) {
      const chunkStart = this.chunks.keyAt(i);
      if (chunkStart >= to) break;
      const chunk = this.chunks.at(i);
      chunks.push(chunk.subarray(Math.max(0, from - chunkStart), Math.min(chunk.length, to - chunkStart)));
    }
    return { from, to, chunks };
  }

  /**
   * The offset just past the first occurrence of `delimiter` at or after `from`, looking no
   * further than `from + limit` bytes, or -1 when it has not arrived (yet). `searchedTo` says
   * where an earlier search of the same window stopped: only what arrived since (and the few
   * bytes a delimiter could straddle) is searched again, so a long-poll waiting for a delimiter
   * stays linear in the bytes it receives.
   */
  offsetAfter(delimiter: Buffer, from: number, limit: number, searchedTo: number = from): number {
    const start = Math.max(from, searchedTo - delimiter.length + 1);
    const window = this.read(start, from + limit - start);
    const at = window.data.indexOf(delimiter);
    return at < 0 ? -1 : start + at + delimiter.length;
  }

  /**
   * Takes the bytes from `offset` on back out of the log, as one buffer: they are no longer
   * held, and the next byte received gets `offset` (STARTTLS hands them to TLS). `offset` must
   * lie within [oldestOffset, endOffset].
   */
  takeFrom(offset: number): Buffer {
    const taken = this.read(offset, this.end - offset).data;
    const copy = Buffer.from(taken);
    while (this.chunks.length > 0 && this.chunks.keyAt(this.chunks.length - 1) >= offset) this.chunks.pop();
    const last = this.chunks.length - 1;
    if (last >= 0 && this.chunks.keyAt(last) + this.chunks.at(last).length > offset) {
      this.chunks.set(last, this.chunks.at(last).subarray(0, offset - this.chunks.keyAt(last)), this.chunks.keyAt(last));
    }
    this.end = offset;
    return copy;
  }

  /** Frees every byte below `offset` (clamped to what is held). */
  releaseUpTo(offset: number): void {
    const target = Math.min(Math.max(offset, this.start), this.end);
    if (target === this.start) return;
    while (this.chunks.length > 0 && this.chunks.keyAt(0) + this.chunks.at(0).length <= target) this.chunks.shift();
    if (this.chunks.length > 0 && this.chunks.keyAt(0) < target) {
      // Keep only the unreleased tail of a partly released chunk.
      this.chunks.set(0, this.chunks.at(0).subarray(target - this.chunks.keyAt(0)), target);
    }
    this.start = target;
  }

  /** Binary search for the live chunk holding `offset` (an index from the oldest held chunk). */
  private chunkIndexAt(offset: number): number {
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.chunks.keyAt(mid) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}
