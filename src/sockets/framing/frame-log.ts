import { Queue } from '../queue';
import { FrameBounds } from './framing';

/** One frame found in a connection's bytes, numbered in the order found (the first is index 0). */
export interface Frame extends FrameBounds {
  index: number;
  receivedAt: Date;
}

/** Stands in for a released frame until the queue is compacted. */
const RELEASED: Frame = { index: -1, from: 0, to: 0, dataFrom: 0, dataTo: 0, receivedAt: new Date(0) };

/**
 * The frames of a connection by index, the frame counterpart of `DatagramLog`: an index over the
 * byte log, each frame its offsets there, the bytes staying in the byte log. A frame whose bytes
 * are not held (echo and discard modes, or bytes released before the frame was complete) is
 * numbered and counted but not kept, so the held frames are always readable.
 */
export class FrameLog {
  private readonly items = new Queue<Frame>(RELEASED);
  private end = 0;

  /** The oldest index still held (= endIndex when nothing is held). */
  get oldestIndex(): number {
    return this.end - this.items.length;
  }

  /** The index the next frame will get (= frames found so far). */
  get endIndex(): number {
    return this.end;
  }

  get heldFrames(): number {
    return this.items.length;
  }

  /** Numbers a frame; keeps it when `held`. */
  append(bounds: FrameBounds, receivedAt: Date, held: boolean): Frame {
    const frame: Frame = { index: this.end++, from: bounds.from, to: bounds.to, dataFrom: bounds.dataFrom, dataTo: bounds.dataTo, receivedAt };
    if (held) this.items.push(frame);
    // The bytes of every earlier frame are gone too: held frames stay the contiguous run up to the end.
    else this.items.clear();
    return frame;
  }

  /**
   * Up to `max` frames from index `from` (within [oldestIndex, endIndex]), stopping before the one
   * that would take the data past `maxBytes`, but always returning at least one.
   */
  read(from: number, max: number, maxBytes: number): Frame[] {
    const found: Frame[] = [];
    let total = 0;
    for (let i = from - this.oldestIndex; i < this.items.length && found.length < max; i++) {
      const frame = this.items.at(i);
      const size = frame.dataTo - frame.dataFrom;
      if (found.length > 0 && total + size > maxBytes) break;
      total += size;
      found.push(frame);
    }
    return found;
  }

  /** Frees the frames below `index`; answers the byte offset their bytes end at, or null when none was held. */
  releaseUpTo(index: number): number | null {
    let to: number | null = null;
    while (this.items.length > 0 && this.items.at(0).index < index) to = this.items.shift().to;
    return to;
  }

  /** Frees the frames with bytes below `offset` (released from the byte log). */
  releaseBelowOffset(offset: number): void {
    while (this.items.length > 0 && this.items.at(0).from < offset) this.items.shift();
  }
}
