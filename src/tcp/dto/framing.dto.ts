import { ApiProperty } from '@nestjs/swagger';
import { ApiProblem, FieldError } from '../../common/api-problem';
import { IsBooleanField, IsEncoding, IsIntegerField, IsOneOf, IsText, IsTextList } from '../../common/validation';
import { FramingErrorInfo } from '../../sockets/framing/connection-framing';
import {
  BYTE_ORDERS,
  ByteOrder,
  DEFAULT_MAX_FRAME_BYTES,
  FRAMING_ERROR_ACTIONS,
  FRAMING_PRESETS,
  FRAMING_PRESET_NAMES,
  Framing,
  FramingErrorAction,
  FramingPreset,
  FramingSetting,
  LENGTH_FIELD_LENGTHS,
  LengthFieldLength,
  delimiterConflict,
} from '../../sockets/framing/framing';
import { PayloadEncoding, decodePayload } from '../../sockets/payload-codec';
import { FramingStatus } from '../../sockets/tcp-connection';

export const FRAMING_TYPES = ['none', 'delimiter', 'length', 'fixed', ...FRAMING_PRESET_NAMES] as const;
export type FramingType = (typeof FRAMING_TYPES)[number];

const DELIMITER_FIELDS = ['delimiters', 'opener', 'encoding', 'includeDelimiter', 'maxFrameBytes'] as const;
const LENGTH_FIELDS = ['lengthFieldOffset', 'lengthFieldLength', 'byteOrder', 'lengthAdjustment', 'initialBytesToStrip', 'maxFrameBytes'] as const;
const FIELDS_OF: Record<'none' | 'delimiter' | 'length' | 'fixed' | 'preset', readonly string[]> = {
  none: [],
  delimiter: DELIMITER_FIELDS,
  length: LENGTH_FIELDS,
  fixed: ['frameBytes'],
  preset: ['maxFrameBytes'],
};

/**
 * How a connection cuts received bytes into frames. The fields that apply depend on `type`; a
 * preset takes only `maxFrameBytes` (and `onError`). Netty users: the `length` fields are
 * `LengthFieldBasedFrameDecoder`'s.
 */
export class FramingDto {
  @IsOneOf(FRAMING_TYPES, {
    required: true,
    description:
      '`none` (no frames, the default), `delimiter`, `length` (a length field, Netty’s LengthFieldBasedFrameDecoder), `fixed`, or a preset: ' +
      '`lines` (LF or CRLF), `crlf`, `nul`, `u16be` and `u32be` (a 2- or 4-byte big-endian length before the data, stripped), ' +
      '`mllp` (HL7: 0x0b data 0x1c 0x0d), `stx-etx` (0x02 data 0x03)',
    example: 'lines',
  })
  type!: FramingType;

  @IsTextList({
    minItems: 1,
    maxItems: 8,
    maxLength: 64,
    description: '`delimiter`: a frame ends at the first of these (written in `encoding`); where two start at the same byte, the longer wins. A delimiter may occur inside another only at its end',
    example: ['\r\n', '\n'],
  })
  delimiters?: string[];

  @IsText({ minLength: 1, maxLength: 16, description: '`delimiter`: bytes that open a frame (in `encoding`), cut from the data when a frame starts with them; framed sends put them first', example: '\u0002' })
  opener?: string;

  @IsEncoding({ description: '`delimiter`: how `delimiters` and `opener` are written (default utf8)', default: undefined })
  encoding?: PayloadEncoding;

  @IsBooleanField({ description: '`delimiter`: keep the delimiter (and opener) in each frame’s data (default false)' })
  includeDelimiter?: boolean;

  @IsIntegerField({
    min: 1,
    max: 1024 * 1024 * 1024,
    description:
      '`delimiter`: most data bytes in a frame; `length`: most bytes in a whole frame, header included (Netty’s maxFrameLength). Beyond it: a framing error. ' +
      'At most the buffer cap (SOCKPLANE_MAX_BUFFERED_BYTES), so a frame can always arrive whole; default 1 MiB (or the cap, if smaller)',
    example: 1048576,
  })
  maxFrameBytes?: number;

  @IsIntegerField({ min: 0, max: 65535, description: '`length`: bytes before the length field (default 0)', example: 0 })
  lengthFieldOffset?: number;

  @IsOneOf(LENGTH_FIELD_LENGTHS, { description: '`length`: bytes of the length field, or `varint` (protobuf’s base-128 varint). Required for `length`', example: 4 })
  lengthFieldLength?: LengthFieldLength;

  @IsOneOf(BYTE_ORDERS, { description: '`length`: byte order of the length field (default big)', example: 'big' })
  byteOrder?: ByteOrder;

  @IsIntegerField({ min: -65535, max: 65535, description: '`length`: added to the field’s value to give the bytes after the field (default 0; -4 when a 4-byte field counts itself)', example: 0 })
  lengthAdjustment?: number;

  @IsIntegerField({
    min: 0,
    max: 65535,
    description: '`length`: bytes cut from the front of each frame, usually the header (default 0, as in Netty). A varint field counts as one byte here, whatever its width',
    example: 4,
  })
  initialBytesToStrip?: number;

  @IsIntegerField({ min: 1, max: 1024 * 1024, description: '`fixed`: bytes in every frame. Required for `fixed`', example: 16 })
  frameBytes?: number;

  @IsOneOf(FRAMING_ERROR_ACTIONS, {
    description: 'On a framing error (a frame over maxFrameBytes, a length field that cannot be valid): `record` it and stop framing, the bytes still kept (default); or `close` the connection (reason `framing-error`)',
    example: 'record',
  })
  onError?: FramingErrorAction;
}

/** Fields of a framing representation; the request's, resolved (a preset shows what it stands for). */
export class FramingStateDto {
  @ApiProperty({ enum: ['none', 'delimiter', 'length', 'fixed'], example: 'delimiter' })
  type!: 'none' | 'delimiter' | 'length' | 'fixed';

  @ApiProperty({ enum: FRAMING_PRESET_NAMES, nullable: true, description: 'The preset it was set from; null when given in full', example: 'lines' })
  preset!: FramingPreset | null;

  @ApiProperty({ required: false, type: [String], description: 'The delimiters, in hex', example: ['0d0a', '0a'] })
  delimiters?: string[];

  @ApiProperty({ required: false, type: String, nullable: true, description: 'The opener, in hex', example: null })
  opener?: string | null;

  @ApiProperty({ required: false, example: false })
  includeDelimiter?: boolean;

  @ApiProperty({ required: false, example: 1048576 })
  maxFrameBytes?: number;

  @ApiProperty({ required: false, example: 0 })
  lengthFieldOffset?: number;

  @ApiProperty({ required: false, oneOf: [{ type: 'integer' }, { type: 'string' }], enum: LENGTH_FIELD_LENGTHS, example: 4 })
  lengthFieldLength?: LengthFieldLength;

  @ApiProperty({ required: false, enum: BYTE_ORDERS, example: 'big' })
  byteOrder?: ByteOrder;

  @ApiProperty({ required: false, example: 0 })
  lengthAdjustment?: number;

  @ApiProperty({ required: false, example: 4 })
  initialBytesToStrip?: number;

  @ApiProperty({ required: false, example: 16 })
  frameBytes?: number;

  @ApiProperty({ enum: FRAMING_ERROR_ACTIONS, example: 'record' })
  onError!: FramingErrorAction;
}

export class FramingErrorDto {
  @ApiProperty({ description: 'Offset in the byte log where the frame that could not be framed begins', example: 5 })
  offset!: number;

  @ApiProperty({ example: 'a frame of 1073741828 bytes (length field 1073741824) is over maxFrameBytes 1048576' })
  message!: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-25T16:30:00.000Z' })
  at!: string;
}

/** A connection's framing and its frames. */
export class ConnectionFramingDto extends FramingStateDto {
  @ApiProperty({ description: 'Frames received (also the index the next one gets)', example: 2 })
  framesIn!: number;

  @ApiProperty({ description: 'Frames sent by framed sends', example: 1 })
  framesOut!: number;

  @ApiProperty({ description: 'Oldest frame index still held', example: 0 })
  oldestIndex!: number;

  @ApiProperty({ description: 'Index the next frame will get', example: 2 })
  endIndex!: number;

  @ApiProperty({ description: 'Frames held for reading', example: 2 })
  heldFrames!: number;

  @ApiProperty({ type: FramingErrorDto, nullable: true, description: 'The framing error that stopped framing; null while framing (a new framing clears it)' })
  error!: FramingErrorDto | null;
}

/**
 * The runtime framing a request asks for. The schema checks each field; this checks how they go
 * together (the fields a type takes, the ones it needs, delimiters that can frame), answering
 * 400 VALIDATION_FAILED with one message per field, as schema failures do.
 */
export function toFramingSetting(dto: FramingDto, maxBufferedBytes: number, field = 'framing'): FramingSetting {
  const errors: FieldError[] = [];
  const at = (name: string): string => (field ? `${field}.${name}` : name);
  const fail = (name: string, message: string): void => void errors.push({ field: at(name), message });
  const onError = dto.onError ?? 'record';
  const preset = isPreset(dto.type) ? dto.type : null;
  const takes = FIELDS_OF[preset ? 'preset' : (dto.type as 'none' | 'delimiter' | 'length' | 'fixed')];
  for (const name of Object.keys(dto)) {
    if (name === 'type' || name === 'onError' || takes.includes(name)) continue;
    fail(name, `${at(name)} does not apply to type ${dto.type}${preset ? ' (a preset takes maxFrameBytes and onError)' : ''}`);
  }
  const maxFrameBytes = dto.maxFrameBytes ?? Math.min(DEFAULT_MAX_FRAME_BYTES, maxBufferedBytes);
  if (maxFrameBytes > maxBufferedBytes) fail('maxFrameBytes', `${at('maxFrameBytes')} must not be over the buffer cap ${maxBufferedBytes} (SOCKPLANE_MAX_BUFFERED_BYTES), or a frame that size could never arrive whole`);
  let framing: Framing | null = null;
  if (preset) {
    framing = { ...FRAMING_PRESETS[preset], maxFrameBytes };
  } else if (dto.type === 'delimiter') {
    framing = delimiterFraming(dto, maxFrameBytes, fail, at);
  } else if (dto.type === 'length') {
    if (dto.lengthFieldLength === undefined) fail('lengthFieldLength', `${at('lengthFieldLength')} is required for type length`);
    framing = {
      type: 'length',
      lengthFieldOffset: dto.lengthFieldOffset ?? 0,
      lengthFieldLength: dto.lengthFieldLength ?? 4,
      byteOrder: dto.byteOrder ?? 'big',
      lengthAdjustment: dto.lengthAdjustment ?? 0,
      initialBytesToStrip: dto.initialBytesToStrip ?? 0,
      maxFrameBytes,
    };
  } else if (dto.type === 'fixed') {
    if (dto.frameBytes === undefined) fail('frameBytes', `${at('frameBytes')} is required for type fixed`);
    else if (dto.frameBytes > maxBufferedBytes) fail('frameBytes', `${at('frameBytes')} must not be over the buffer cap ${maxBufferedBytes} (SOCKPLANE_MAX_BUFFERED_BYTES)`);
    framing = { type: 'fixed', frameBytes: dto.frameBytes ?? 1 };
  }
  if (errors.length > 0) throw new ApiProblem('VALIDATION_FAILED', errors.map((e) => e.message).join('; '), {}, errors);
  return { framing, preset, onError };
}

function delimiterFraming(dto: FramingDto, maxFrameBytes: number, fail: (name: string, message: string) => void, at: (name: string) => string): Framing | null {
  const encoding = dto.encoding ?? 'utf8';
  if (dto.delimiters === undefined) {
    fail('delimiters', `${at('delimiters')} is required for type delimiter`);
    return null;
  }
  try {
    const delimiters = dto.delimiters.map((d) => decodePayload(d, encoding, at('delimiters')));
    const opener = dto.opener === undefined ? null : decodePayload(dto.opener, encoding, at('opener'));
    const conflict = delimiterConflict(delimiters) ?? (opener?.length === 0 ? 'the opener cannot be empty' : null);
    if (conflict) fail('delimiters', `${at('delimiters')}: ${conflict}`);
    return { type: 'delimiter', delimiters, opener, includeDelimiter: dto.includeDelimiter ?? false, maxFrameBytes };
  } catch (err) {
    fail('delimiters', err instanceof Error ? err.message : String(err));
    return null;
  }
}

function isPreset(type: FramingType): type is FramingPreset {
  return (FRAMING_PRESET_NAMES as readonly string[]).includes(type);
}

export function toFramingStateDto(setting: FramingSetting): FramingStateDto {
  const { framing, preset, onError } = setting;
  switch (framing?.type) {
    case undefined:
      return { type: 'none', preset, onError };
    case 'delimiter':
      return {
        type: 'delimiter',
        preset,
        delimiters: framing.delimiters.map((d) => d.toString('hex')),
        opener: framing.opener?.toString('hex') ?? null,
        includeDelimiter: framing.includeDelimiter,
        maxFrameBytes: framing.maxFrameBytes,
        onError,
      };
    case 'length': {
      const { lengthFieldOffset, lengthFieldLength, byteOrder, lengthAdjustment, initialBytesToStrip, maxFrameBytes } = framing;
      return { type: 'length', preset, lengthFieldOffset, lengthFieldLength, byteOrder, lengthAdjustment, initialBytesToStrip, maxFrameBytes, onError };
    }
    case 'fixed':
      return { type: 'fixed', preset, frameBytes: framing.frameBytes, onError };
  }
}

export function toFramingErrorDto(error: FramingErrorInfo | null): FramingErrorDto | null {
  return error && { offset: error.offset, message: error.message, at: error.at.toISOString() };
}

export function toConnectionFramingDto(status: FramingStatus): ConnectionFramingDto {
  const { framesIn, framesOut, oldestIndex, endIndex, heldFrames } = status;
  return { ...toFramingStateDto(status.setting), framesIn, framesOut, oldestIndex, endIndex, heldFrames, error: toFramingErrorDto(status.error) };
}
