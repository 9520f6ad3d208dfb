import { ApiProperty } from '@nestjs/swagger';
import { IsString } from 'class-validator';
import { IsBooleanField, IsBooleanQuery, IsEncoding } from '../../common/validation';
import { PayloadEncoding } from '../../sockets/payload-codec';

export class SendDataDto {
  @ApiProperty({ description: 'The bytes to send, written in `encoding`', example: 'Hello, server!' })
  @IsString()
  data!: string;

  @IsEncoding({ description: 'How `data` is written: `utf8` text, `base64` (RFC 4648) or `hex`' })
  encoding: PayloadEncoding = 'utf8';

  @IsBooleanField({ description: 'Half-close (send FIN) once the bytes are sent', default: false, example: false })
  end: boolean = false;
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
