import { FixedFraming, FrameBounds, Framer, FramingFault } from './framing';

/** Frames of `frameBytes` bytes each. */
export class FixedFramer implements Framer {
  private start: number;
  private end: number;

  constructor(
    private readonly framing: FixedFraming,
    offset: number,
  ) {
    this.start = offset;
    this.end = offset;
  }

  get frameStart(): number {
    return this.start;
  }

  push(chunk: Buffer, emit: (frame: FrameBounds) => void): FramingFault | null {
    this.end += chunk.length;
    const size = this.framing.frameBytes;
    while (this.start + size <= this.end) {
      const from = this.start;
      this.start += size;
      emit({ from, to: this.start, dataFrom: from, dataTo: this.start });
    }
    return null;
  }
}
