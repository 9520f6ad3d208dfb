import { ApiProperty } from '@nestjs/swagger';
import { OctetAnswer } from '../../common/corked-reply';
import { IsEncoding, IsIntegerQuery, IsWaitMs, unsetFirst } from '../../common/validation';
import { PAYLOAD_ENCODINGS, PayloadEncoding, encodePayload } from '../../sockets/payload-codec';
import { FrameReadResult } from '../../sockets/tcp-connection';
import { CONNECTION_FRAMES_TYPE, encodeConnectionFrames } from '../frame-frames';
import { FramingErrorDto, toFramingErrorDto } from './framing.dto';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

export class ReadFramesQueryDto {
  @IsIntegerQuery({
    min: 0,
    max: MAX_SAFE,
    description: 'Frame index to read from (a previous read’s `nextIndex`); defaults to the oldest frame still held',
    examples: unsetFirst('From the oldest frame held', { start: { summary: 'From the first frame (until released)', value: 0 } }),
  })
  from?: number;

  @IsIntegerQuery({ min: 1, max: 10_000, description: 'Most frames to return (fewer when their data would pass SOCKPLANE_MAX_READ_BYTES)', default: 100, example: 100 })
  max!: number;

  @IsWaitMs({ description: 'Long-poll: hold the request up to this long until `minFrames` frames at or after `from` arrived' })
  waitMs!: number;

  @IsIntegerQuery({
    min: 1,
    max: 10_000,
    description: 'With waitMs: how many frames from `from` make the read worth answering (at most `max`). The read answers sooner when the peer ends, framing stops, or the connection closes',
    default: 1,
    example: 1,
  })
  minFrames!: number;

  @IsEncoding({ description: 'How each frame’s `data` is written in a JSON answer (binary frames carry the raw bytes)' })
  encoding!: PayloadEncoding;
}

export class FrameDto {
  @ApiProperty({ description: 'Its index (the first frame is 0)', example: 0 })
  index!: number;

  @ApiProperty({ description: 'Byte-log offset of its first byte (header or opener included)', example: 0 })
  from!: number;

  @ApiProperty({ description: 'Byte-log offset after its last byte (delimiter included)', example: 6 })
  to!: number;

  @ApiProperty({ description: 'Bytes of its data', example: 4 })
  size!: number;

  @ApiProperty({ format: 'date-time', example: '2026-11-25T16:30:00.000Z' })
  receivedAt!: string;

  @ApiProperty({ description: 'Its data (header or delimiter cut off as the framing says), written in the read’s `encoding`', example: 'PING' })
  data!: string;
}

export class FrameReadDto {
  @ApiProperty({ example: 'tc_000002f0e1d2c3b4' })
  connectionId!: string;

  @ApiProperty({ description: 'Index the read started at', example: 0 })
  from!: number;

  @ApiProperty({ description: 'Index to read from next (from + the frames returned)', example: 1 })
  nextIndex!: number;

  @ApiProperty({ type: [FrameDto], description: 'The frames, oldest first' })
  frames!: FrameDto[];

  @ApiProperty({ enum: PAYLOAD_ENCODINGS, example: 'utf8' })
  encoding!: string;

  @ApiProperty({ description: 'Oldest index still held', example: 0 })
  oldestIndex!: number;

  @ApiProperty({ description: 'Index the next frame will get', example: 1 })
  endIndex!: number;

  @ApiProperty({ description: 'No more frames will come: the peer ended (every frame was returned), or the connection has no framing or its framing stopped', example: false })
  eof!: boolean;

  @ApiProperty({ type: FramingErrorDto, nullable: true, description: 'The framing error that stopped framing, if one did' })
  error!: FramingErrorDto | null;
}

export class ReleaseFramesQueryDto {
  @IsIntegerQuery({ min: 0, max: MAX_SAFE, required: true, description: 'Free every frame below this index, and the bytes they lie in (usually a read’s nextIndex)', example: 1 })
  upTo!: number;
}

export function toFrameReadDto(id: string, result: FrameReadResult, encoding: PayloadEncoding): FrameReadDto {
  return {
    connectionId: id,
    from: result.from,
    nextIndex: result.nextIndex,
    frames: result.frames.map(({ frame, data }) => ({
      index: frame.index,
      from: frame.from,
      to: frame.to,
      size: frame.dataTo - frame.dataFrom,
      receivedAt: frame.receivedAt.toISOString(),
      data: encodePayload(data.length === 1 ? data[0] : Buffer.concat(data), encoding),
    })),
    encoding,
    oldestIndex: result.oldestIndex,
    endIndex: result.endIndex,
    eof: result.eof,
    error: toFramingErrorDto(result.error),
  };
}

/** The binary form of a read: the frames, the indexes in Sockplane-* headers. */
export function toConnectionFrames(result: FrameReadResult): OctetAnswer {
  const headers = {
    'sockplane-from': result.from,
    'sockplane-next-index': result.nextIndex,
    'sockplane-count': result.frames.length,
    'sockplane-oldest-index': result.oldestIndex,
    'sockplane-end-index': result.endIndex,
    'sockplane-eof': result.eof,
  };
  return new OctetAnswer(CONNECTION_FRAMES_TYPE, headers, [encodeConnectionFrames(result)]);
}
