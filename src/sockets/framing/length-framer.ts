import { FrameBounds, Framer, FramingFault, LengthFraming } from './framing';

/** The longest varint taken: ten 7-bit groups hold any 64-bit value. */
const MAX_VARINT_BYTES = 10;

/**
 * Frames that announce their length (Netty's `LengthFieldBasedFrameDecoder`): a frame is
 * `lengthFieldOffset` bytes, the length field, then `value + lengthAdjustment` bytes; its data
 * is the frame without its first `initialBytesToStrip` bytes. Only the header is kept (copied
 * from the chunks, at most `lengthFieldOffset` + 10 bytes); the rest is counted as it passes,
 * so a declared length of any size holds no memory and one over `maxFrameBytes` is refused as
 * soon as its field is read.
 */
export class LengthFramer implements Framer {
  private start: number;
  private end: number;
  /** The current frame's header bytes so far (while its length is not known). */
  private header: number[] = [];
  /** The current frame's whole length once its field was read; -1 before. */
  private frameLength = -1;
  /** Bytes cut from the current frame's front, once its field was read. */
  private strip = 0;
  private faulted = false;

  constructor(
    private readonly framing: LengthFraming,
    offset: number,
  ) {
    this.start = offset;
    this.end = offset;
  }

  get frameStart(): number {
    return this.start;
  }

  push(chunk: Buffer, emit: (frame: FrameBounds) => void): FramingFault | null {
    if (this.faulted || chunk.length === 0) return null;
    const chunkStart = this.end;
    this.end += chunk.length;
    let pos = 0;
    while (pos < chunk.length || (this.frameLength >= 0 && this.start + this.frameLength <= this.end)) {
      if (this.frameLength < 0) {
        // Whatever of the chunk follows the header is the frame's own: only where the frame ends matters next.
        const fault = this.takeHeader(chunk, pos);
        if (fault) return fault;
        if (this.frameLength < 0) break;
      }
      const to = this.start + this.frameLength;
      if (to > this.end) break;
      const from = this.start;
      emit({ from, to, dataFrom: from + this.strip, dataTo: to });
      this.start = to;
      this.frameLength = -1;
      this.header = [];
      pos = to - chunkStart;
    }
    return null;
  }

  /** Takes header bytes from `chunk` at `pos` until the length is known (or the chunk runs out). */
  private takeHeader(chunk: Buffer, pos: number): FramingFault | null {
    const { lengthFieldOffset, lengthFieldLength } = this.framing;
    const header = this.header;
    for (let at = pos; at < chunk.length; at++) {
      header.push(chunk[at]);
      if (header.length <= lengthFieldOffset) continue;
      if (lengthFieldLength === 'varint') {
        if (header[header.length - 1] & 0x80) {
          if (header.length - lengthFieldOffset >= MAX_VARINT_BYTES) return this.fault(`the varint length field runs past ${MAX_VARINT_BYTES} bytes`);
          continue;
        }
        return this.measure(varint(header, lengthFieldOffset), header.length);
      }
      if (header.length === lengthFieldOffset + lengthFieldLength) return this.measure(fixedField(header, lengthFieldOffset, lengthFieldLength, this.framing.byteOrder), header.length);
    }
    return null;
  }

  /** The field said `value`; the field ends `fieldEnd` bytes into the frame. */
  private measure(value: number, fieldEnd: number): FramingFault | null {
    const { lengthAdjustment, initialBytesToStrip, maxFrameBytes } = this.framing;
    const frameLength = value + lengthAdjustment + fieldEnd;
    if (frameLength < fieldEnd) return this.fault(`the length field says ${value}, which with lengthAdjustment ${lengthAdjustment} is less than nothing`);
    if (frameLength > maxFrameBytes) return this.fault(`a frame of ${frameLength} bytes (length field ${value}) is over maxFrameBytes ${maxFrameBytes}`);
    const strip = stripped(this.framing, fieldEnd);
    if (frameLength < strip) return this.fault(`a frame of ${frameLength} bytes is shorter than initialBytesToStrip ${initialBytesToStrip}`);
    this.frameLength = frameLength;
    this.strip = strip;
    return null;
  }

  private fault(message: string): FramingFault {
    this.faulted = true;
    return { offset: this.start, message };
  }
}

/**
 * Bytes to cut from a frame whose field ends `fieldEnd` bytes in. A varint's width varies with
 * the value, so it counts as one byte in `initialBytesToStrip`: `lengthFieldOffset + 1` strips
 * the header through the field, however wide it turned out.
 */
function stripped(framing: LengthFraming, fieldEnd: number): number {
  const { lengthFieldLength, lengthFieldOffset, initialBytesToStrip } = framing;
  if (lengthFieldLength !== 'varint' || initialBytesToStrip <= lengthFieldOffset) return initialBytesToStrip;
  return initialBytesToStrip - (lengthFieldOffset + 1) + fieldEnd;
}

/** A protobuf varint (little-endian groups of 7 bits) from `at`; values past 2^53 come out too large to be a valid frame, which is all that matters. */
function varint(bytes: readonly number[], at: number): number {
  let value = 0;
  let scale = 1;
  for (let i = at; i < bytes.length; i++) {
    value += (bytes[i] & 0x7f) * scale;
    scale *= 128;
  }
  return value;
}

function fixedField(bytes: readonly number[], at: number, length: number, order: 'big' | 'little'): number {
  let value = 0;
  for (let i = 0; i < length; i++) value = value * 256 + bytes[order === 'big' ? at + i : at + length - 1 - i];
  return value;
}
