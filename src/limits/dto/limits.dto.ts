import { ApiProperty } from '@nestjs/swagger';

export class QuotaDto {
  @ApiProperty({ description: 'The limit; null when there is none of its own', example: 20000, type: Number, nullable: true })
  limit!: number | null;

  @ApiProperty({ description: 'How much of it is in use now', example: 3 })
  used!: number;

  @ApiProperty({ description: 'The setting that sets the limit', example: 'SOCKPLANE_MAX_SOCKETS' })
  setting!: string;
}

export class QuotasDto {
  @ApiProperty({ type: QuotaDto, description: 'Sockets the service holds (listeners, connections, UDP sockets, UDP proxies and their clients’ upstream sockets)' })
  sockets!: QuotaDto;

  @ApiProperty({ type: QuotaDto, description: 'Sockets the calling API key holds (every socket with an admin key or without authentication)' })
  socketsPerKey!: QuotaDto;

  @ApiProperty({ type: QuotaDto, description: 'Unreleased received bytes across all TCP connections' })
  bufferedBytes!: QuotaDto;

  @ApiProperty({ type: QuotaDto, description: 'Reads waiting at once (`waitMs` > 0)' })
  longPolls!: QuotaDto;

  @ApiProperty({ type: QuotaDto, description: 'Event streams open at once' })
  eventStreams!: QuotaDto;
}

export class PerRequestLimitsDto {
  @ApiProperty({ description: 'Largest HTTP request body (SOCKPLANE_BODY_LIMIT_BYTES); larger ones answer 413', example: 16777216 })
  bodyBytes!: number;

  @ApiProperty({ description: 'Longest `waitMs` a long-poll waits (SOCKPLANE_MAX_WAIT_MS); more is cut to it', example: 60000 })
  waitMs!: number;

  @ApiProperty({ description: 'Largest `maxBytes` of one buffer read (SOCKPLANE_MAX_READ_BYTES); more is cut to it', example: 16777216 })
  readBytes!: number;
}

export class PerSocketLimitsDto {
  @ApiProperty({ description: 'Unreleased received bytes a connection holds before it stops reading (SOCKPLANE_MAX_BUFFERED_BYTES)', example: 4194304 })
  bufferedBytes!: number;

  @ApiProperty({ description: 'Bytes queued towards a peer before `send` answers 429 (SOCKPLANE_MAX_PENDING_WRITE_BYTES)', example: 16777216 })
  pendingWriteBytes!: number;

  @ApiProperty({ description: 'Unreleased datagrams a UDP socket holds (SOCKPLANE_UDP_MAX_DATAGRAMS)', example: 10000 })
  datagrams!: number;

  @ApiProperty({ description: 'Unreleased datagram bytes a UDP socket holds (SOCKPLANE_UDP_MAX_BUFFERED_BYTES)', example: 4194304 })
  datagramBytes!: number;

  @ApiProperty({ description: 'Idle timeout of TCP connections that do not set one (SOCKPLANE_IDLE_TIMEOUT_MS); 0 = none', example: 0 })
  defaultIdleTimeoutMs!: number;
}

export class LimitsDto {
  @ApiProperty({ type: QuotasDto, description: 'Limits shared over time, with their use now; reaching one answers 429 QUOTA_EXCEEDED (bufferedBytes pauses reading instead)' })
  quotas!: QuotasDto;

  @ApiProperty({ type: PerRequestLimitsDto })
  perRequest!: PerRequestLimitsDto;

  @ApiProperty({ type: PerSocketLimitsDto })
  perSocket!: PerSocketLimitsDto;
}
