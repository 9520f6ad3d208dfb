import { ApiProperty } from '@nestjs/swagger';
import { OctetAnswer } from '../../common/corked-reply';
import { EndpointDto } from '../../common/dto/socket-common.dto';
import { IsEncoding, IsIntegerQuery, IsWaitMs, unsetFirst } from '../../common/validation';
import { PAYLOAD_ENCODINGS, PayloadEncoding, encodePayload } from '../../sockets/payload-codec';
import { DatagramReadResult } from '../../sockets/udp-socket';
import { DATAGRAM_FRAMES_TYPE, encodeDatagramFrames } from '../datagram-frames';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

export class ReadDatagramsQueryDto {
  @IsIntegerQuery({
    min: 0,
    max: MAX_SAFE,
    description: 'Sequence number to read from (a previous read’s `nextSeq`); defaults to the oldest datagram still held',
    examples: unsetFirst('From the oldest datagram held', { start: { summary: 'From the first datagram received (until released)', value: 0 } }),
  })
  from?: number;

  @IsIntegerQuery({ min: 1, max: 1000, description: 'Most datagrams to return (fewer when their bytes would pass SOCKPLANE_MAX_READ_BYTES)', default: 100, example: 100 })
  max!: number;

  @IsWaitMs({ description: 'Long-poll: hold the request up to this long until a datagram at or after `from` arrived' })
  waitMs!: number;

  @IsIntegerQuery({
    min: 1,
    max: 1000,
    description:
      'With waitMs: how many datagrams from `from` make the read worth answering (at most `max`), so a fast sender is read in full batches. ' +
      'The read answers sooner when the socket drops a datagram at its caps or closes, and with what there is when waitMs runs out',
    default: 1,
    example: 1,
  })
  minDatagrams!: number;

  @IsEncoding({ description: 'How each datagram’s `data` is written in a JSON answer (binary frames carry the raw bytes)' })
  encoding!: PayloadEncoding;
}

export class DatagramDto {
  @ApiProperty({ description: 'Sequence number (the first datagram kept is 0)', example: 0 })
  seq!: number;

  @ApiProperty({ type: EndpointDto, description: 'Who sent it' })
  sender!: EndpointDto;

  @ApiProperty({ description: 'Payload bytes', example: 4 })
  size!: number;

  @ApiProperty({ format: 'date-time', example: '2026-11-25T16:30:00.000Z' })
  receivedAt!: string;

  @ApiProperty({ description: 'The payload, written in the read’s `encoding`', example: 'ping' })
  data!: string;
}

export class DatagramReadDto {
  @ApiProperty({ example: 'us_000001a1b2c3d4e5' })
  socketId!: string;

  @ApiProperty({ description: 'Sequence number the read started at', example: 0 })
  from!: number;

  @ApiProperty({ description: 'Sequence number to read from next (from + the datagrams returned)', example: 1 })
  nextSeq!: number;

  @ApiProperty({ type: [DatagramDto], description: 'The datagrams, oldest first' })
  datagrams!: DatagramDto[];

  @ApiProperty({ enum: PAYLOAD_ENCODINGS, example: 'utf8' })
  encoding!: string;

  @ApiProperty({ description: 'Oldest sequence number still held', example: 0 })
  oldestSeq!: number;

  @ApiProperty({ description: 'Sequence number the next kept datagram will get', example: 1 })
  endSeq!: number;

  @ApiProperty({ description: 'Datagrams dropped so far because the socket held its cap (they have no sequence number)', example: 0 })
  dropped!: number;
}

export class ReleaseDatagramsQueryDto {
  @IsIntegerQuery({ min: 0, max: MAX_SAFE, required: true, description: 'Free every datagram below this sequence number (usually a read’s nextSeq)', example: 1 })
  upTo!: number;
}

export function toDatagramReadDto(id: string, result: DatagramReadResult, encoding: PayloadEncoding): DatagramReadDto {
  return {
    socketId: id,
    from: result.from,
    nextSeq: result.nextSeq,
    datagrams: result.datagrams.map((d) => ({
      seq: d.seq,
      sender: { ...d.sender },
      size: d.data.length,
      receivedAt: d.receivedAt.toISOString(),
      data: encodePayload(d.data, encoding),
    })),
    encoding,
    oldestSeq: result.oldestSeq,
    endSeq: result.endSeq,
    dropped: result.dropped,
  };
}

/** The binary form of a read: the datagrams as frames, the sequence numbers in Sockplane-* headers. */
export function toDatagramFrames(result: DatagramReadResult): OctetAnswer {
  const headers = {
    'sockplane-from': result.from,
    'sockplane-next-seq': result.nextSeq,
    'sockplane-count': result.datagrams.length,
    'sockplane-oldest-seq': result.oldestSeq,
    'sockplane-end-seq': result.endSeq,
    'sockplane-dropped': result.dropped,
  };
  return new OctetAnswer(DATAGRAM_FRAMES_TYPE, headers, [encodeDatagramFrames(result.datagrams)]);
}
