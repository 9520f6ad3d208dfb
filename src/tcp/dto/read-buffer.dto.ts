import { ApiProperty } from '@nestjs/swagger';
import { OctetAnswer } from '../../common/corked-reply';
import { OCTET_STREAM } from '../../common/raw-body';
import { IsEncoding, IsIntegerQuery, IsText, IsWaitMs, unsetFirst } from '../../common/validation';
import { PayloadEncoding, encodePayload } from '../../sockets/payload-codec';
import { BufferReadResult } from '../../sockets/tcp-connection';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

export class ReadBufferQueryDto {
  @IsIntegerQuery({
    min: 0,
    max: MAX_SAFE,
    description: 'Offset to read from (a previous read’s `nextOffset`); defaults to the oldest byte still held',
    examples: unsetFirst('From the oldest byte held', { start: { summary: 'From the first byte received (until released)', value: 0 } }),
  })
  from?: number;

  @IsIntegerQuery({ min: 1, max: 1024 * 1024 * 1024, description: 'Most bytes to return (capped by SOCKPLANE_MAX_READ_BYTES)', default: 65536, example: 65536 })
  maxBytes!: number;

  @IsWaitMs({ description: 'Long-poll: hold the request up to this long until enough bytes arrived' })
  waitMs!: number;

  @IsIntegerQuery({ min: 1, max: 1024 * 1024 * 1024, description: 'With waitMs: how many bytes make the read worth answering', default: 1, example: 1 })
  minBytes!: number;

  @IsText({
    minLength: 1,
    maxLength: 256,
    description: 'With waitMs: answer once this delimiter arrived, with the bytes up to and including it (in `untilEncoding`)',
    examples: unsetFirst('No delimiter', { newline: { summary: 'Up to a newline', value: '\n' } }),
  })
  until?: string;

  @IsEncoding({ description: 'How `until` is written' })
  untilEncoding!: PayloadEncoding;

  @IsEncoding({ description: 'How `data` is written in the JSON answer (ignored for `Accept: application/octet-stream`)' })
  encoding!: PayloadEncoding;
}

export class BufferReadDto {
  @ApiProperty({ example: 'tc_000002f0e1d2c3b4' })
  connectionId!: string;

  @ApiProperty({ description: 'Offset of the first byte returned', example: 0 })
  from!: number;

  @ApiProperty({ description: 'Offset to read from next (from + byteCount)', example: 14 })
  nextOffset!: number;

  @ApiProperty({ description: 'Bytes returned', example: 14 })
  byteCount!: number;

  @ApiProperty({ description: 'The bytes, written in `encoding`', example: 'Hello, server!' })
  data!: string;

  @ApiProperty({ enum: ['utf8', 'base64', 'hex'], example: 'utf8' })
  encoding!: string;

  @ApiProperty({ description: 'Oldest offset still held', example: 0 })
  oldestOffset!: number;

  @ApiProperty({ description: 'Offset the next received byte will get', example: 14 })
  endOffset!: number;

  @ApiProperty({ description: 'The peer has ended and every byte up to its end was returned', example: false })
  eof!: boolean;

  @ApiProperty({ type: Boolean, nullable: true, description: 'With `until`: whether the delimiter was found (the data ends with it); null without `until`', example: null })
  delimiterFound!: boolean | null;
}

export class ReleaseBufferQueryDto {
  @IsIntegerQuery({ min: 0, max: MAX_SAFE, required: true, description: 'Free every byte below this offset (usually a read’s nextOffset)', example: 14 })
  upTo!: number;
}

export function toBufferReadDto(id: string, result: BufferReadResult, encoding: PayloadEncoding): BufferReadDto {
  const bytes = result.chunks.length === 1 ? result.chunks[0] : Buffer.concat(result.chunks);
  return {
    connectionId: id,
    from: result.from,
    nextOffset: result.nextOffset,
    byteCount: bytes.length,
    data: encodePayload(bytes, encoding),
    encoding,
    oldestOffset: result.oldestOffset,
    endOffset: result.endOffset,
    eof: result.eof,
    delimiterFound: result.delimiterFound,
  };
}

/** The raw form of a read: the bytes as they are held, the offsets in Sockplane-* headers. */
export function toBufferOctets(result: BufferReadResult): OctetAnswer {
  const headers = {
    'sockplane-from': result.from,
    'sockplane-next-offset': result.nextOffset,
    'sockplane-oldest-offset': result.oldestOffset,
    'sockplane-end-offset': result.endOffset,
    'sockplane-eof': result.eof,
  };
  return new OctetAnswer(OCTET_STREAM, headers, result.chunks);
}
