/**
 * Bytes written piece after piece into one buffer that grows as needed, taken whole at the end.
 * The replies rules give the frames of a received chunk are written this way, framing included,
 * so they leave in one write with no buffer of their own per reply.
 */
export class ByteWriter {
  private block: Buffer = EMPTY;
  private end = 0;

  constructor(private readonly initialBytes = 256) {}

  /** Bytes written since the writer was made or last taken. */
  get length(): number {
    return this.end;
  }

  writeBytes(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.block.set(bytes, this.end);
    this.end += bytes.length;
  }

  /** The bytes of `source` from `from` up to `to`, copied without a view of them. */
  writeRange(source: Buffer, from: number, to: number): void {
    this.ensure(to - from);
    this.end += source.copy(this.block, this.end, from, to);
  }

  /** `text` in `encoding`; hex and base64 take what they can read of it, as `Buffer.from` does. */
  writeText(text: string, encoding: BufferEncoding): void {
    // utf8 takes at most three bytes a UTF-16 unit: cheaper to reserve than to measure.
    this.ensure(encoding === 'utf8' ? text.length * 3 : Buffer.byteLength(text, encoding));
    this.end += this.block.write(text, this.end, encoding);
  }

  /** What was written from `from` on, as a view that the next write may change. */
  view(from: number): Buffer {
    return this.block.subarray(from, this.end);
  }

  /** Puts `bytes` at `at`, what was written from there on moved after them. */
  insert(at: number, bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.block.copyWithin(at + bytes.length, at, this.end);
    this.block.set(bytes, at);
    this.end += bytes.length;
  }

  /** Forgets what was written from `at` on. */
  truncate(at: number): void {
    this.end = Math.min(this.end, at);
  }

  /** Everything written, now the caller's; the writer starts again empty. */
  take(): Buffer {
    const taken = this.block.subarray(0, this.end);
    this.block = EMPTY;
    this.end = 0;
    return taken;
  }

  private ensure(more: number): void {
    const needed = this.end + more;
    if (needed <= this.block.length) return;
    const grown = Buffer.allocUnsafe(Math.max(needed, this.block.length * 2, this.initialBytes));
    this.block.copy(grown, 0, 0, this.end);
    this.block = grown;
  }
}

const EMPTY = Buffer.alloc(0);
