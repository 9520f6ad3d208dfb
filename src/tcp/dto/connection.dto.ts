import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CloseInfoDto, EndpointDto, toCloseInfoDto, toEndpointDto } from '../../common/dto/socket-common.dto';
import { RECEIVE_MODES } from '../../sockets/socket-types';
import { TcpConnection, TcpConnectionState } from '../../sockets/tcp-connection';
import { ConnectionTlsDto, toConnectionTlsDto } from '../../tls/dto/connection-tls.dto';
import { ConnectionFramingDto, toConnectionFramingDto } from './framing.dto';

export class ConnectionOptionsDto {
  @ApiProperty({ enum: RECEIVE_MODES, example: 'buffer' })
  mode!: string;

  @ApiProperty({ example: false })
  noDelay!: boolean;

  @ApiProperty({ example: false })
  keepAlive!: boolean;

  @ApiProperty({ example: 0 })
  idleTimeoutMs!: number;

  @ApiProperty({ description: 'Unreleased bytes at which reading pauses (the peer is pushed back)', example: 4194304 })
  maxBufferedBytes!: number;
}

export class ConnectionCountersDto {
  @ApiProperty({ description: 'Bytes received from the peer', example: 14 })
  bytesIn!: number;

  @ApiProperty({ description: 'Bytes sent to the peer', example: 14 })
  bytesOut!: number;

  @ApiProperty({ description: 'Bytes accepted by send and not yet taken by the kernel', example: 0 })
  pendingWriteBytes!: number;
}

export class BufferStateDto {
  @ApiProperty({ description: 'Oldest offset still held (everything below was released)', example: 0 })
  oldestOffset!: number;

  @ApiProperty({ description: 'Offset the next received byte will get (= bytes received in buffer mode)', example: 14 })
  endOffset!: number;

  @ApiProperty({ description: 'Bytes held for reading', example: 14 })
  heldBytes!: number;

  @ApiProperty({ description: 'Reading is paused because the held bytes reached maxBufferedBytes; releasing resumes it', example: false })
  paused!: boolean;

  @ApiProperty({ description: 'The peer has ended (FIN) or the connection closed: no more bytes will arrive', example: false })
  inputEnded!: boolean;
}

export class ConnectionProxyLinkDto {
  @ApiProperty({ example: 'tp_000001a1b2c3d4e5' })
  proxyId!: string;

  @ApiProperty({ description: 'The other half of the pair', example: 'tc_000005a1b2c3d4e5' })
  peerConnectionId!: string;
}

export class ConnectionDto {
  @ApiProperty({ example: 'tc_000002f0e1d2c3b4' })
  id!: string;

  @ApiProperty({ enum: ['tcp-connection'], example: 'tcp-connection' })
  kind!: 'tcp-connection';

  @ApiProperty({ enum: ['inbound', 'outbound'], description: '`inbound`: accepted by a listener; `outbound`: connected through the API', example: 'inbound' })
  direction!: string;

  @ApiProperty({ type: String, nullable: true, description: 'The listener that accepted it (inbound only)', example: 'tl_000001a1b2c3d4e5' })
  listenerId!: string | null;

  @ApiProperty({ type: Number, nullable: true, description: 'Its position among the listener’s accepted connections, from 1 (inbound only)', example: 1 })
  acceptIndex!: number | null;

  @ApiProperty({
    enum: Object.values(TcpConnectionState),
    description: '`open`; `peer-ended`: the peer sent FIN, the API can still send; `local-ended`: the API sent FIN, bytes can still arrive; `closed`',
    example: 'open',
  })
  state!: string;

  @ApiProperty({ type: EndpointDto, nullable: true })
  local!: EndpointDto | null;

  @ApiProperty({ type: EndpointDto, nullable: true })
  remote!: EndpointDto | null;

  @ApiProperty({ type: ConnectionOptionsDto })
  options!: ConnectionOptionsDto;

  @ApiProperty({ type: ConnectionCountersDto })
  counters!: ConnectionCountersDto;

  @ApiProperty({ type: BufferStateDto })
  buffer!: BufferStateDto;

  @ApiProperty({ type: ConnectionFramingDto, description: 'How received bytes are cut into frames, and the frames’ counters and indexes' })
  framing!: ConnectionFramingDto;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, example: { demo: 'tutorial' } })
  labels!: Record<string, string>;

  @ApiProperty({ format: 'date-time', example: '2026-11-25T16:30:00.000Z' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-25T16:30:01.000Z', description: 'Last time bytes moved either way' })
  lastActivityAt!: string;

  @ApiProperty({ type: ConnectionTlsDto, description: 'Its TLS session; `state: none` for plain TCP' })
  tls!: ConnectionTlsDto;

  @ApiPropertyOptional({ type: CloseInfoDto, nullable: true, description: 'Why it closed; null until it has' })
  closed!: CloseInfoDto | null;

  @ApiPropertyOptional({ type: ConnectionProxyLinkDto, nullable: true, description: 'The TCP proxy it is half of, and the other half; null for a connection of its own' })
  proxy!: ConnectionProxyLinkDto | null;
}

export class ConnectionPageDto {
  @ApiProperty({ type: [ConnectionDto] })
  items!: ConnectionDto[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last one', example: null })
  nextCursor!: string | null;
}

export class AcceptedPageDto {
  @ApiProperty({ type: [ConnectionDto], description: 'Connections accepted after `after`, oldest first' })
  items!: ConnectionDto[];

  @ApiProperty({ description: 'Pass as `after` to wait for the next ones', example: 1 })
  lastAcceptIndex!: number;
}

export function toConnectionDto(connection: TcpConnection): ConnectionDto {
  const { options } = connection;
  const buffer = connection.buffer;
  return {
    id: connection.id,
    kind: connection.kind,
    direction: connection.direction,
    listenerId: connection.listenerId,
    acceptIndex: connection.acceptIndex,
    state: connection.state,
    local: toEndpointDto(connection.local),
    remote: toEndpointDto(connection.remote),
    options: {
      mode: options.mode,
      noDelay: options.noDelay,
      keepAlive: options.keepAlive,
      idleTimeoutMs: options.idleTimeoutMs,
      maxBufferedBytes: options.maxBufferedBytes,
    },
    counters: { bytesIn: connection.bytesIn, bytesOut: connection.bytesOut, pendingWriteBytes: connection.pendingWriteBytes },
    buffer: { ...buffer, paused: connection.paused, inputEnded: connection.inputEnded },
    framing: toConnectionFramingDto(connection.framingStatus),
    labels: { ...connection.labels },
    createdAt: connection.createdAt.toISOString(),
    lastActivityAt: connection.lastActivityAt.toISOString(),
    tls: toConnectionTlsDto(connection.tls),
    closed: toCloseInfoDto(connection.closed),
    proxy: connection.proxyLink && { ...connection.proxyLink },
  };
}
