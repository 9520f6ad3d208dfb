import { ByteWriter } from '../byte-writer';
import { DelimiterFramer } from './delimiter-framer';
import { DelimiterFraming, FrameBounds, Framing, LengthFraming } from './framing';

/** Why `data` cannot be sent as one frame of the framing; null when it can. */
export function unframeable(framing: Framing, data: Buffer): string | null {
  switch (framing.type) {
    case 'fixed':
      return data.length === framing.frameBytes ? null : `a frame is ${framing.frameBytes} bytes (frameBytes); this one is ${data.length}`;
    case 'delimiter':
      if (data.length > framing.maxFrameBytes) return `a frame of ${data.length} bytes is over maxFrameBytes ${framing.maxFrameBytes}`;
      return readsBackAsOne(framing, data) ? null : 'the data holds a delimiter (or ends with the start of one), so the peer would not read it back as this one frame';
    case 'length': {
      const value = data.length - framing.lengthAdjustment;
      if (value < 0) return `a frame of ${data.length} bytes cannot carry lengthAdjustment ${framing.lengthAdjustment}`;
      if (typeof framing.lengthFieldLength === 'number' && framing.lengthFieldLength < 8 && value >= 2 ** (8 * framing.lengthFieldLength)) {
        return `${data.length} bytes do not fit a ${framing.lengthFieldLength}-byte length field`;
      }
      return null;
    }
  }
}

/**
 * `data` as one frame on the wire, the data itself not copied: a delimited frame is the opener
 * (if the framing has one), the data and the first delimiter; a length-prefixed one is
 * `lengthFieldOffset` zero bytes, the length field and the data, the field saying the data's
 * length less `lengthAdjustment`, so a peer decoding with the same parameters and
 * `initialBytesToStrip` covering the header reads back exactly the data; a fixed one is the data.
 * Call `unframeable` first.
 */
export function encodeFrame(framing: Framing, data: Buffer): Buffer[] {
  switch (framing.type) {
    case 'fixed':
      return [data];
    case 'delimiter':
      return framing.opener ? [framing.opener, data, framing.delimiters[0]] : [data, framing.delimiters[0]];
    case 'length':
      return [lengthHeader(framing, data.length - framing.lengthAdjustment), data];
  }
}

/**
 * Starts a frame of `framing` in `out`, for its payload to be written next: writes the opener of a
 * delimited framing that has one; answers where the payload starts, for `endFrame`.
 */
export function beginFrame(framing: Framing, out: ByteWriter): number {
  if (framing.type === 'delimiter' && framing.opener) out.writeBytes(framing.opener);
  return out.length;
}

/**
 * Ends the frame `beginFrame` started once its payload was written: the delimiter after it, or
 * the length header before it, as `encodeFrame` would. Answers why the payload cannot be one
 * frame (and writes nothing more), or null.
 */
export function endFrame(framing: Framing, out: ByteWriter, payloadStart: number): string | null {
  const payload = out.view(payloadStart);
  const problem = unframeable(framing, payload);
  if (problem !== null) return problem;
  if (framing.type === 'delimiter') out.writeBytes(framing.delimiters[0]);
  else if (framing.type === 'length') out.insert(payloadStart, lengthHeader(framing, payload.length - framing.lengthAdjustment));
  return null;
}

/** Whether a peer framing the same way reads the encoded frame back as this one frame: a delimiter inside the data, or one its end and the delimiter make, would cut it short. */
function readsBackAsOne(framing: DelimiterFraming, data: Buffer): boolean {
  // Data holding no byte a delimiter starts with cannot hold or begin one: the common case, checked natively.
  // The opener goes before the data, so it must hold none either (opener `a`, data `b`, delimiter `ab`).
  const opener = framing.opener;
  if (!holdsDelimiterStart(framing.delimiters, data) && (opener === null || !holdsDelimiterStart(framing.delimiters, opener))) return true;
  const strict = { ...framing, includeDelimiter: false };
  const frames: FrameBounds[] = [];
  const framer = new DelimiterFramer(strict, 0);
  const wire = encodeFrame(strict, data);
  for (const chunk of wire) framer.push(chunk, (frame) => frames.push(frame));
  const wireLength = wire.reduce((total, chunk) => total + chunk.length, 0);
  return frames.length === 1 && frames[0].to === wireLength && frames[0].dataTo - frames[0].dataFrom === data.length;
}

/** Whether `bytes` hold the first byte of a delimiter; a short reply is looked through in JavaScript, cheaper than a native search per delimiter. */
function holdsDelimiterStart(delimiters: readonly Buffer[], bytes: Buffer): boolean {
  const inJs = bytes.length <= SCANNED_IN_JS_BYTES;
  for (let d = 0; d < delimiters.length; d++) {
    const first = delimiters[d][0];
    if (!inJs) {
      if (bytes.indexOf(first) >= 0) return true;
      continue;
    }
    for (let i = 0; i < bytes.length; i++) if (bytes[i] === first) return true;
  }
  return false;
}

const SCANNED_IN_JS_BYTES = 64;

function lengthHeader(framing: LengthFraming, value: number): Buffer {
  const { lengthFieldOffset, lengthFieldLength, byteOrder } = framing;
  const field = lengthFieldLength === 'varint' ? varintBytes(value) : fixedBytes(value, lengthFieldLength, byteOrder);
  const header = Buffer.alloc(lengthFieldOffset + field.length);
  header.set(field, lengthFieldOffset);
  return header;
}

function varintBytes(value: number): number[] {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return bytes;
}

function fixedBytes(value: number, length: number, order: 'big' | 'little'): number[] {
  const bytes: number[] = [];
  let rest = value;
  for (let i = 0; i < length; i++) {
    bytes.push(rest % 256);
    rest = Math.floor(rest / 256);
  }
  return order === 'big' ? bytes.reverse() : bytes;
}
