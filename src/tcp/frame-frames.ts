import { FrameReadResult } from '../sockets/tcp-connection';

/**
 * The binary form of a frame read, the counterpart of the UDP datagram frames: the frames back to
 * back, each a fixed 36-byte header and its data. A different layout would get a different
 * media type, so a client asking for this one can always parse what it gets.
 */
export const CONNECTION_FRAMES_TYPE = 'application/vnd.sockplane.frames';

/** Bytes of a frame's header: index, receivedAt, from, to, size. */
export const FRAME_HEADER_BYTES = 36;

const TWO_TO_32 = 2 ** 32;

/** The layout, for the OpenAPI description and kept in step with `encodeConnectionFrames`. */
export const FRAME_LAYOUT_MARKDOWN = [
  '| offset | bytes | field | |',
  '| --- | --- | --- | --- |',
  '| 0 | 8 | `index` | unsigned 64-bit: the frame’s index |',
  '| 8 | 8 | `receivedAt` | unsigned 64-bit: milliseconds since 1970-01-01T00:00:00Z |',
  '| 16 | 8 | `from` | unsigned 64-bit: byte-log offset of the frame’s first byte (header or opener included) |',
  '| 24 | 8 | `to` | unsigned 64-bit: byte-log offset after its last byte (delimiter included) |',
  '| 32 | 4 | `size` | unsigned 32-bit: bytes of its data |',
  '| 36 | size | `data` | the frame’s data |',
].join('\n');

function writeU64(frames: Buffer, value: number, at: number): void {
  frames.writeUInt32BE(Math.floor(value / TWO_TO_32), at);
  frames.writeUInt32BE(value >>> 0, at + 4);
}

/** Writes frames into one buffer (integers in network byte order): one allocation, one copy of each frame's data. */
export function encodeConnectionFrames(result: FrameReadResult): Buffer {
  let total = 0;
  for (const { frame } of result.frames) total += FRAME_HEADER_BYTES + frame.dataTo - frame.dataFrom;
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const { frame, data } of result.frames) {
    writeU64(out, frame.index, at);
    writeU64(out, frame.receivedAt.getTime(), at + 8);
    writeU64(out, frame.from, at + 16);
    writeU64(out, frame.to, at + 24);
    out.writeUInt32BE(frame.dataTo - frame.dataFrom, at + 32);
    at += FRAME_HEADER_BYTES;
    for (const chunk of data) {
      out.set(chunk, at);
      at += chunk.length;
    }
  }
  return out;
}
