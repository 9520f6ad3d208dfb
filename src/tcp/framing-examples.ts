import { ExampleObject } from '@nestjs/swagger';

/** A request example for every framing type and preset, each valid as sent. */
export const FRAMING_EXAMPLES: Record<string, ExampleObject> = {
  lines: { summary: 'Preset lines: LF or CRLF ends a frame (cut off)', value: { type: 'lines' } },
  crlf: { summary: 'Preset crlf: CRLF ends a frame', value: { type: 'crlf', maxFrameBytes: 8192 } },
  nul: { summary: 'Preset nul: a zero byte ends a frame', value: { type: 'nul' } },
  u16be: { summary: 'Preset u16be: a 2-byte big-endian length, then the data', value: { type: 'u16be' } },
  u32be: { summary: 'Preset u32be: a 4-byte big-endian length, then the data', value: { type: 'u32be' } },
  mllp: { summary: 'Preset mllp: HL7’s 0x0b data 0x1c 0x0d', value: { type: 'mllp' } },
  stxEtx: { summary: 'Preset stx-etx: 0x02 data 0x03', value: { type: 'stx-etx' } },
  delimiter: {
    summary: 'Delimiters: a blank line (HTTP-style headers) or a NUL, delimiter kept',
    value: { type: 'delimiter', delimiters: ['0d0a0d0a', '00'], encoding: 'hex', includeDelimiter: true, maxFrameBytes: 65536 },
  },
  length: {
    summary: 'Length field: 2 header bytes, a 3-byte length counting a 1-byte header after it, header stripped',
    value: { type: 'length', lengthFieldOffset: 2, lengthFieldLength: 3, lengthAdjustment: -1, initialBytesToStrip: 6 },
  },
  lengthInclusive: {
    summary: 'Length field that counts itself: 4-byte little-endian, adjustment -4, stripped',
    value: { type: 'length', lengthFieldLength: 4, byteOrder: 'little', lengthAdjustment: -4, initialBytesToStrip: 4 },
  },
  varint: { summary: 'Protobuf varint length prefix, stripped', value: { type: 'length', lengthFieldLength: 'varint', initialBytesToStrip: 1 } },
  fixed: { summary: 'Fixed 16-byte records', value: { type: 'fixed', frameBytes: 16 } },
  closeOnError: { summary: 'Lines, closing the connection on a line over 1 KiB', value: { type: 'lines', maxFrameBytes: 1024, onError: 'close' } },
  none: { summary: 'No framing', value: { type: 'none' } },
};
