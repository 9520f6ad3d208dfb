import { ApiProperty } from '@nestjs/swagger';
import { IsBooleanField, IsBooleanQuery, IsEncoding, IsNestedList, IsText } from '../../common/validation';
import { PayloadEncoding } from '../../sockets/payload-codec';

/** One frame of a batch send. */
export class FrameDataDto {
  @IsText({ required: true, description: 'The frame’s data, written in `encoding`', example: 'PING' })
  data!: string;

  @IsEncoding({ description: 'How `data` is written' })
  encoding!: PayloadEncoding;
}

export class SendDataDto {
  @IsText({ description: 'The bytes to send, written in `encoding`. Required unless `frames` is given', example: 'Hello, server!' })
  data?: string;

  @IsEncoding({ description: 'How `data` is written: `utf8` text, `base64` (RFC 4648) or `hex`' })
  encoding!: PayloadEncoding;

  @IsBooleanField({ description: 'Send `data` as one frame of the connection’s framing: with its delimiter, or its length prefix, added (409 NO_FRAMING without a framing)', default: false, example: false })
  frame!: boolean;

  @IsNestedList(FrameDataDto, {
    minItems: 1,
    maxItems: 1000,
    description: 'Instead of `data`: several frames, each sent as one frame of the connection’s framing, all in one write',
    example: [{ data: 'PING', encoding: 'utf8' }],
  })
  frames?: FrameDataDto[];

  @IsBooleanField({ description: 'Half-close (send FIN) once the bytes are sent', default: false, example: false })
  end!: boolean;
}

export class SendQueryDto {
  @IsBooleanQuery({ description: 'For raw `application/octet-stream` bodies: half-close (send FIN) once the bytes are sent', default: false, example: false })
  end?: boolean;
}

export class SendResultDto {
  @ApiProperty({ example: 'tc_000002f0e1d2c3b4' })
  connectionId!: string;

  @ApiProperty({ description: 'Bytes handed to the kernel by this call (delimiters and length prefixes included)', example: 14 })
  bytesSent!: number;

  @ApiProperty({ description: 'Frames this call sent (0 unless `frame` or `frames`)', example: 0 })
  framesSent!: number;

  @ApiProperty({ description: 'Bytes sent on this connection so far', example: 14 })
  bytesOut!: number;

  @ApiProperty({ description: 'Whether this call half-closed the connection', example: false })
  ended!: boolean;

  @ApiProperty({ description: 'The connection state after the call', example: 'open' })
  state!: string;
}
