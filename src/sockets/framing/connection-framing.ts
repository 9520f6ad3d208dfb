import { ByteLog } from '../byte-log';
import { Next, Stage } from '../stage-chain';
import { Frame, FrameLog } from './frame-log';
import { createFramer } from './framers';
import { Framer, FramingFault, FramingSetting, NO_FRAMING } from './framing';

/** A framing error as a connection records it. */
export interface FramingErrorInfo {
  offset: number;
  message: string;
  at: Date;
}

export interface FramingHooks {
  /** Frames a chunk completed, in order (the array is reused: copy what you keep). */
  onFrames(frames: readonly Frame[]): void;
  onFault(error: FramingErrorInfo): void;
}

/**
 * A connection's framing: the `received` stage nearest the byte log, which hands each chunk on
 * and then indexes the frames it completes into the connection's `FrameLog`, as offsets into the
 * byte log the chunk has just joined. So a frame's bytes are always the byte log's, and the
 * framer never holds more than a header or a delimiter's worth of them.
 */
export class ConnectionFraming implements Stage {
  readonly name = 'framing';
  readonly frames = new FrameLog();
  private current: FramingSetting = NO_FRAMING;
  private framer: Framer | null = null;
  /** Where the next frame begins, as far as is known: the end of the last frame, or of the bytes framing last began at. */
  private framedTo: number;
  private fault: FramingErrorInfo | null = null;
  private framesSent = 0;
  private readonly found: Frame[] = [];

  constructor(
    private readonly log: ByteLog,
    private readonly hooks: FramingHooks,
  ) {
    this.framedTo = log.oldestOffset;
  }

  get setting(): FramingSetting {
    return this.current;
  }

  /** Frames are being cut: a framing is set and has not failed. */
  get active(): boolean {
    return this.framer !== null;
  }

  get error(): FramingErrorInfo | null {
    return this.fault;
  }

  get framesOut(): number {
    return this.framesSent;
  }

  countSent(frames: number): void {
    this.framesSent += frames;
  }

  /**
   * Frames from now on as `setting` says. Bytes already held after the last frame (a partial
   * frame, or everything held when framing starts) are framed at once, so a change never loses
   * the frame in progress; the frames found so far stay as they were found.
   */
  configure(setting: FramingSetting): void {
    this.current = setting;
    this.fault = null;
    this.framer = null;
    if (setting.framing === null) return;
    const start = Math.max(this.framedTo, this.log.oldestOffset);
    this.framer = createFramer(setting.framing, start);
    // Bytes not held (echo, discard modes) were passed by: framing starts after them.
    for (const chunk of this.log.chunksOf(start, this.log.endOffset - start).chunks) this.frame(chunk);
  }

  received(chunk: Buffer, next: Next): void {
    next(chunk);
    this.frame(chunk);
  }

  private frame(chunk: Buffer): void {
    const framer = this.framer;
    if (framer === null) return;
    const receivedAt = new Date();
    const found = this.found;
    const oldest = this.log.oldestOffset;
    const fault = framer.push(chunk, (bounds) => found.push(this.frames.append(bounds, receivedAt, bounds.from >= oldest)));
    this.framedTo = framer.frameStart;
    if (found.length > 0) {
      this.hooks.onFrames(found);
      found.length = 0;
    }
    if (fault) this.fail(fault);
  }

  private fail(fault: FramingFault): void {
    this.framer = null;
    this.framedTo = fault.offset;
    this.fault = { offset: fault.offset, message: fault.message, at: new Date() };
    this.hooks.onFault(this.fault);
  }
}
