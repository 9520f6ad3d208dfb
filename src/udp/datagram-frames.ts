import { Datagram } from '../sockets/datagram-log';

/**
 * The binary form of a datagram read: the datagrams back to back, each a frame of a fixed
 * 24-byte header, the sender's address as text and the payload. A different layout would get
 * a different media type, so a client asking for this one can always parse what it gets.
 */
export const DATAGRAM_FRAMES_TYPE = 'application/vnd.sockplane.datagrams';

/** Bytes of a frame before the sender's address: seq, receivedAt, size, port, family, address length. */
export const FRAME_HEADER_BYTES = 24;

const TWO_TO_32 = 2 ** 32;

/** The frame layout, for the OpenAPI description and kept in step with `encodeDatagramFrames`. */
export const FRAME_LAYOUT_MARKDOWN = [
  '| offset | bytes | field | |',
  '| --- | --- | --- | --- |',
  '| 0 | 8 | `seq` | unsigned 64-bit: the datagram’s sequence number |',
  '| 8 | 8 | `receivedAt` | unsigned 64-bit: milliseconds since 1970-01-01T00:00:00Z |',
  '| 16 | 4 | `size` | unsigned 32-bit: payload bytes (0 for an empty datagram) |',
  '| 20 | 2 | `port` | unsigned 16-bit: the sender’s port |',
  '| 22 | 1 | `family` | 4 (IPv4) or 6 (IPv6): the sender’s address family |',
  '| 23 | 1 | `addressLength` | n: bytes of the address |',
  '| 24 | n | `address` | the sender’s address as ASCII text (`127.0.0.1`, `::1`) |',
  '| 24 + n | size | `payload` | the datagram’s bytes |',
].join('\n');

/**
 * Writes datagrams as frames into one buffer (integers in network byte order). One allocation
 * and one copy of each payload: an answer that is a list of buffers would go out through a
 * stream, costing more per datagram than the copy.
 */
export function encodeDatagramFrames(datagrams: readonly Datagram[]): Buffer {
  let total = 0;
  for (const datagram of datagrams) total += FRAME_HEADER_BYTES + datagram.sender.address.length + datagram.data.length;
  const frames = Buffer.allocUnsafe(total);
  let at = 0;
  for (const { seq, receivedAt, sender, data } of datagrams) {
    const ms = receivedAt.getTime();
    frames.writeUInt32BE(Math.floor(seq / TWO_TO_32), at);
    frames.writeUInt32BE(seq >>> 0, at + 4);
    frames.writeUInt32BE(Math.floor(ms / TWO_TO_32), at + 8);
    frames.writeUInt32BE(ms >>> 0, at + 12);
    frames.writeUInt32BE(data.length, at + 16);
    frames.writeUInt16BE(sender.port, at + 20);
    frames[at + 22] = sender.family === 'IPv6' ? 6 : 4;
    frames[at + 23] = sender.address.length;
    at += FRAME_HEADER_BYTES;
    // Addresses are ASCII (digits, dots, hex, colons, and a scope's interface name), so one byte a character.
    for (let i = 0; i < sender.address.length; i++) frames[at + i] = sender.address.charCodeAt(i);
    at += sender.address.length;
    frames.set(data, at);
    at += data.length;
  }
  return frames;
}
