/** How a length field is written: a fixed number of bytes, or a protobuf-style varint (LEB128). */
export const LENGTH_FIELD_LENGTHS = [1, 2, 3, 4, 8, 'varint'] as const;
export type LengthFieldLength = (typeof LENGTH_FIELD_LENGTHS)[number];

export const BYTE_ORDERS = ['big', 'little'] as const;
export type ByteOrder = (typeof BYTE_ORDERS)[number];

/** What a connection does when its bytes cannot be framed: keep them as bytes (`record`), or close (`close`, reason `framing-error`). */
export const FRAMING_ERROR_ACTIONS = ['record', 'close'] as const;
export type FramingErrorAction = (typeof FRAMING_ERROR_ACTIONS)[number];

/** Frames end at the first of `delimiters` (the earliest in the stream; the longest where two start together). */
export interface DelimiterFraming {
  readonly type: 'delimiter';
  readonly delimiters: readonly Buffer[];
  /** Bytes that open a frame (MLLP's `0x0b`): cut from the data when a frame starts with them, like the delimiter. */
  readonly opener: Buffer | null;
  /** Whether a frame's data keeps the delimiter that ended it (and the opener). */
  readonly includeDelimiter: boolean;
  /** Data bytes (the delimiter not counted) beyond which a frame is a framing error. */
  readonly maxFrameBytes: number;
}

/** Netty's `LengthFieldBasedFrameDecoder`, parameter for parameter. */
export interface LengthFraming {
  readonly type: 'length';
  readonly lengthFieldOffset: number;
  readonly lengthFieldLength: LengthFieldLength;
  readonly byteOrder: ByteOrder;
  /** Added to the field's value to give the bytes that follow the field. */
  readonly lengthAdjustment: number;
  /** Bytes cut from the front of each frame (the header, usually); a varint field counts as one byte, whatever its width. */
  readonly initialBytesToStrip: number;
  /** Whole-frame bytes (header included) beyond which a frame is a framing error. */
  readonly maxFrameBytes: number;
}

export interface FixedFraming {
  readonly type: 'fixed';
  readonly frameBytes: number;
}

/** A way to cut a byte stream into frames; a connection without one (type `none`) has no frames. */
export type Framing = DelimiterFraming | LengthFraming | FixedFraming;

/**
 * Why a set of delimiters cannot frame a stream, or null when it can. A delimiter found inside
 * another anywhere but at its end (`b` in `aba`, `\r` in `\r\n`) would end a frame before the
 * longer one could be seen whole, so where frames end would depend on how the bytes arrived.
 */
export function delimiterConflict(delimiters: readonly Buffer[]): string | null {
  if (delimiters.length === 0) return 'at least one delimiter is needed';
  for (const short of delimiters) {
    if (short.length === 0) return 'a delimiter cannot be empty';
    for (const long of delimiters) {
      if (long === short) continue;
      if (long.equals(short)) return 'the delimiters must differ';
      const at = long.indexOf(short);
      if (at >= 0 && at + short.length < long.length) return `a delimiter occurs inside another other than at its end (0x${short.toString('hex')} in 0x${long.toString('hex')})`;
    }
  }
  return null;
}

/** The largest frame a preset accepts unless told otherwise. */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;

const delimited = (delimiters: number[][], opener: number[] | null = null): DelimiterFraming => ({
  type: 'delimiter',
  delimiters: delimiters.map((bytes) => Buffer.from(bytes)),
  opener: opener ? Buffer.from(opener) : null,
  includeDelimiter: false,
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
});

const prefixed = (lengthFieldLength: 2 | 4): LengthFraming => ({
  type: 'length',
  lengthFieldOffset: 0,
  lengthFieldLength,
  byteOrder: 'big',
  lengthAdjustment: 0,
  initialBytesToStrip: lengthFieldLength,
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
});

/**
 * Named framings for the common protocols. `lines` ends a frame at LF or CRLF (both are cut
 * off, as a line reader does); `mllp` is HL7's minimal layer, `0x0b` data `0x1c 0x0d`; `stx-etx`
 * is `0x02` data `0x03`. The data of a frame is what lies between the markers.
 */
export const FRAMING_PRESETS = {
  lines: delimited([[0x0d, 0x0a], [0x0a]]),
  crlf: delimited([[0x0d, 0x0a]]),
  nul: delimited([[0x00]]),
  u16be: prefixed(2),
  u32be: prefixed(4),
  mllp: delimited([[0x1c, 0x0d]], [0x0b]),
  'stx-etx': delimited([[0x03]], [0x02]),
} as const satisfies Record<string, Framing>;
export type FramingPreset = keyof typeof FRAMING_PRESETS;
export const FRAMING_PRESET_NAMES = Object.keys(FRAMING_PRESETS) as readonly FramingPreset[];

/** A connection's framing as asked for: the framing (null for none), the preset it came from, and what a framing error does. */
export interface FramingSetting {
  readonly framing: Framing | null;
  readonly preset: FramingPreset | null;
  readonly onError: FramingErrorAction;
}

export const NO_FRAMING: FramingSetting = { framing: null, preset: null, onError: 'record' };

/** Where a frame lies in the byte log: the whole frame in [from, to), its data (header or delimiter cut off) in [dataFrom, dataTo). */
export interface FrameBounds {
  from: number;
  to: number;
  dataFrom: number;
  dataTo: number;
}

/** Why the bytes from `offset` on could not be framed. */
export interface FramingFault {
  offset: number;
  message: string;
}

/**
 * Cuts a byte stream into frames, chunk by chunk, holding no more than a frame header or a
 * delimiter's length of the bytes: frames are reported as offsets into the stream, and the
 * caller keeps the bytes. After a fault it frames nothing more.
 */
export interface Framer {
  /** The stream offset just past the last complete frame (where the next frame starts). */
  readonly frameStart: number;
  /** Frames the chunk completes, in order, through `emit`; the fault, once the stream cannot be framed. */
  push(chunk: Buffer, emit: (frame: FrameBounds) => void): FramingFault | null;
}
