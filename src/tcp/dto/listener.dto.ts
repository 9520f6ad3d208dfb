import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CloseInfoDto, EndpointDto, toCloseInfoDto, toEndpointDto } from '../../common/dto/socket-common.dto';
import { RECEIVE_MODES } from '../../sockets/socket-types';
import { NO_FRAMING } from '../../sockets/framing/framing';
import { TcpListener, TcpListenerState } from '../../sockets/tcp-listener';
import { ListenerTlsSettingsDto, toListenerTlsSettingsDto } from '../../tls/dto/listener-tls.dto';
import { FramingStateDto, toFramingStateDto } from './framing.dto';

export class ListenerOptionsDto {
  @ApiProperty({ example: 511 })
  backlog!: number;

  @ApiProperty({ example: 0, description: '0 = no limit' })
  maxConnections!: number;

  @ApiProperty({ enum: RECEIVE_MODES, example: 'echo' })
  mode!: string;

  @ApiProperty({ example: false })
  noDelay!: boolean;

  @ApiProperty({ example: false })
  keepAlive!: boolean;

  @ApiProperty({ example: 0 })
  keepAliveInitialDelayMs!: number;

  @ApiProperty({ example: 0 })
  idleTimeoutMs!: number;

  @ApiProperty({ example: false })
  ipv6Only!: boolean;

  @ApiProperty({ type: FramingStateDto, description: 'The framing accepted connections start with' })
  framing!: FramingStateDto;
}

export class ListenerCountersDto {
  @ApiProperty({ description: 'Connections accepted so far (also the accept index of the latest one)', example: 1 })
  accepted!: number;

  @ApiProperty({ description: 'Accepted connections still open', example: 1 })
  active!: number;

  @ApiProperty({ description: 'Connections refused because maxConnections (or the socket quota) was reached', example: 0 })
  dropped!: number;
}

export class ListenerDto {
  @ApiProperty({ example: 'tl_000001a1b2c3d4e5' })
  id!: string;

  @ApiProperty({ type: String, nullable: true, description: 'Its name, unique among your listeners; null when it has none', example: 'smtp' })
  name!: string | null;

  @ApiProperty({ enum: ['tcp-listener'], example: 'tcp-listener' })
  kind!: 'tcp-listener';

  @ApiProperty({ enum: Object.values(TcpListenerState), example: 'listening' })
  state!: string;

  @ApiProperty({ type: EndpointDto, description: 'The address as bound, with the real port' })
  local!: EndpointDto | null;

  @ApiProperty({ type: ListenerOptionsDto })
  options!: ListenerOptionsDto;

  @ApiProperty({ type: ListenerCountersDto })
  counters!: ListenerCountersDto;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, example: { demo: 'tutorial' } })
  labels!: Record<string, string>;

  @ApiProperty({ format: 'date-time', example: '2026-11-25T16:30:00.000Z' })
  createdAt!: string;

  @ApiProperty({ type: ListenerTlsSettingsDto, description: 'How accepted connections speak TLS; `mode: off` for plain TCP' })
  tls!: ListenerTlsSettingsDto;

  @ApiPropertyOptional({ type: CloseInfoDto, nullable: true, description: 'Why it closed; null while listening' })
  closed!: CloseInfoDto | null;
}

export class ListenerPageDto {
  @ApiProperty({ type: [ListenerDto] })
  items!: ListenerDto[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last one', example: null })
  nextCursor!: string | null;
}

export function toListenerDto(listener: TcpListener): ListenerDto {
  const { options } = listener;
  return {
    id: listener.id,
    name: listener.name,
    kind: listener.kind,
    state: listener.state,
    local: toEndpointDto(listener.local),
    options: {
      backlog: options.backlog,
      maxConnections: options.maxConnections,
      mode: options.mode,
      noDelay: options.noDelay,
      keepAlive: options.keepAlive,
      keepAliveInitialDelayMs: options.keepAliveInitialDelayMs,
      idleTimeoutMs: options.idleTimeoutMs,
      ipv6Only: options.ipv6Only,
      framing: toFramingStateDto(options.framing ?? NO_FRAMING),
    },
    counters: { accepted: listener.accepted, active: listener.active, dropped: listener.dropped },
    labels: { ...listener.labels },
    createdAt: listener.createdAt.toISOString(),
    tls: toListenerTlsSettingsDto(listener.options.tls),
    closed: toCloseInfoDto(listener.closed),
  };
}
