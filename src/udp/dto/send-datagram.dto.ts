import { ApiProperty } from '@nestjs/swagger';
import { EndpointDto } from '../../common/dto/socket-common.dto';
import { IsEncoding, IsHost, IsIntegerQuery, IsPort, IsText, unsetFirst } from '../../common/validation';
import { PayloadEncoding } from '../../sockets/payload-codec';

const DESTINATION_HOST = 'Destination: an IP address in canonical form or a host name (resolved once, in the socket’s family); omit with `port` to send to the default peer';

export class SendDatagramDto {
  @IsHost({ required: false, description: DESTINATION_HOST, example: '127.0.0.1' })
  host?: string;

  @IsPort({ allowZero: false, required: false, description: 'Destination port; omit with `host` to send to the default peer', example: 65433 })
  port?: number;

  @IsText({
    required: true,
    description: 'The datagram’s payload, written in `encoding` (at most 65,507 bytes over IPv4, 65,527 over IPv6)',
    example: 'ping',
  })
  data!: string;

  @IsEncoding({ description: 'How `data` is written: `utf8` text, `base64` (RFC 4648) or `hex`' })
  encoding!: PayloadEncoding;
}

/** The destination of a raw `application/octet-stream` send, which has no JSON to carry it. */
export class SendDatagramQueryDto {
  @IsHost({
    required: false,
    description: `For raw bodies only. ${DESTINATION_HOST}`,
    examples: unsetFirst('JSON body, or the default peer', { loopback: { summary: 'The loopback address', value: '127.0.0.1' } }),
  })
  host?: string;

  @IsIntegerQuery({
    min: 1,
    max: 65535,
    description: 'For raw bodies only. Destination port',
    examples: unsetFirst('JSON body, or the default peer', { tutorial: { summary: 'The tutorial’s UDP port', value: 65433 } }),
  })
  port?: number;
}

export class SendDatagramResultDto {
  @ApiProperty({ example: 'us_000001a1b2c3d4e5' })
  socketId!: string;

  @ApiProperty({ description: 'Payload bytes of the datagram handed to the kernel', example: 4 })
  bytesSent!: number;

  @ApiProperty({ type: EndpointDto, description: 'Where it went: the resolved address that was dialled' })
  destination!: EndpointDto;

  @ApiProperty({ description: 'Datagrams sent from this socket so far', example: 1 })
  datagramsOut!: number;

  @ApiProperty({ description: 'Payload bytes sent from this socket so far', example: 4 })
  bytesOut!: number;
}
