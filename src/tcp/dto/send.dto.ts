import { ApiProperty } from '@nestjs/swagger';
import { IsBooleanField, IsBooleanQuery, IsEncoding, IsText } from '../../common/validation';
import { PayloadEncoding } from '../../sockets/payload-codec';

export class SendDataDto {
  @IsText({ required: true, description: 'The bytes to send, written in `encoding`', example: 'Hello, server!' })
  data!: string;

  @IsEncoding({ description: 'How `data` is written: `utf8` text, `base64` (RFC 4648) or `hex`' })
  encoding!: PayloadEncoding;

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

  @ApiProperty({ description: 'Bytes handed to the kernel by this call', example: 14 })
  bytesSent!: number;

  @ApiProperty({ description: 'Bytes sent on this connection so far', example: 14 })
  bytesOut!: number;

  @ApiProperty({ description: 'Whether this call half-closed the connection', example: false })
  ended!: boolean;

  @ApiProperty({ description: 'The connection state after the call', example: 'open' })
  state!: string;
}
