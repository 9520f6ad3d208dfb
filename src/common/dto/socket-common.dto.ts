import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CLOSE_REASONS, CloseInfo, Endpoint } from '../../sockets/socket-types';

export class EndpointDto {
  @ApiProperty({ example: '127.0.0.1' })
  address!: string;

  @ApiProperty({ example: 41234, description: 'The real port (never 0, even when 0 was asked for)' })
  port!: number;

  @ApiProperty({ enum: ['IPv4', 'IPv6'], example: 'IPv4' })
  family!: 'IPv4' | 'IPv6';
}

export class CloseInfoDto {
  @ApiProperty({
    enum: CLOSE_REASONS,
    description:
      '`local`: closed through the API; `peer-end`: the peer closed first (FIN); `peer-reset`: the peer reset (RST); `timeout`: idle timeout; `error`: see errno; `linger-expired`: a graceful close whose peer sent no FIN within the linger time (SOCKPLANE_CLOSE_LINGER_MS), so it was reset; `framing-error`: its bytes could not be framed and its framing said `onError: close`',
    example: 'peer-end',
  })
  reason!: string;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'Operating system error code', example: 'ECONNRESET' })
  errno!: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, example: null })
  message!: string | null;

  @ApiProperty({ format: 'date-time', example: '2026-11-25T16:30:00.000Z' })
  at!: string;
}

export function toEndpointDto(endpoint: Endpoint | null): EndpointDto | null {
  return endpoint && { address: endpoint.address, port: endpoint.port, family: endpoint.family };
}

export function toCloseInfoDto(info: CloseInfo | null): CloseInfoDto | null {
  return info && { reason: info.reason, errno: info.errno, message: info.message, at: info.at.toISOString() };
}
