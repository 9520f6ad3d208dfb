import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CloseInfoDto, EndpointDto, toCloseInfoDto, toEndpointDto } from '../../common/dto/socket-common.dto';
import { RECEIVE_MODES } from '../../sockets/socket-types';
import { UDP_TYPES, UdpSocket, UdpSocketState } from '../../sockets/udp-socket';

export class MulticastOptionsDto {
  @ApiProperty({ type: [String], description: 'Groups joined', example: ['239.1.2.3'] })
  groups!: string[];

  @ApiProperty({ type: String, nullable: true, description: 'Interface joined on and sent from; null = the kernel’s choice', example: null })
  interface!: string | null;

  @ApiProperty({ example: 1 })
  ttl!: number;

  @ApiProperty({ example: true })
  loopback!: boolean;
}

export class UdpSocketOptionsDto {
  @ApiProperty({ enum: RECEIVE_MODES, example: 'echo' })
  mode!: string;

  @ApiProperty({ example: false })
  reuseAddr!: boolean;

  @ApiProperty({ example: false })
  ipv6Only!: boolean;

  @ApiProperty({ example: false })
  broadcast!: boolean;

  @ApiProperty({ example: 64 })
  ttl!: number;

  @ApiProperty({ type: Number, nullable: true, description: 'SO_RCVBUF as the kernel reports it (Linux doubles what was asked for); null once closed', example: 212992 })
  recvBufferSize!: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'SO_SNDBUF as the kernel reports it; null once closed', example: 212992 })
  sendBufferSize!: number | null;

  @ApiProperty({ type: MulticastOptionsDto, nullable: true, description: 'null when no multicast options were given' })
  multicast!: MulticastOptionsDto | null;

  @ApiProperty({ description: 'Unreleased datagrams held before new ones are dropped (SOCKPLANE_UDP_MAX_DATAGRAMS)', example: 10000 })
  maxDatagrams!: number;

  @ApiProperty({ description: 'Unreleased payload bytes held before new datagrams are dropped (SOCKPLANE_UDP_MAX_BUFFERED_BYTES)', example: 4194304 })
  maxBufferedBytes!: number;
}

export class UdpCountersDto {
  @ApiProperty({ description: 'Datagrams received, dropped ones included', example: 1 })
  datagramsIn!: number;

  @ApiProperty({ description: 'Datagrams sent (echoes included)', example: 1 })
  datagramsOut!: number;

  @ApiProperty({ description: 'Payload bytes received, dropped ones included', example: 4 })
  bytesIn!: number;

  @ApiProperty({ description: 'Payload bytes sent', example: 4 })
  bytesOut!: number;

  @ApiProperty({ description: 'Datagrams received but dropped because the socket held its cap', example: 0 })
  dropped!: number;
}

export class DatagramBufferStateDto {
  @ApiProperty({ description: 'Oldest sequence number still held (everything below was released)', example: 0 })
  oldestSeq!: number;

  @ApiProperty({ description: 'Sequence number the next kept datagram will get', example: 1 })
  endSeq!: number;

  @ApiProperty({ description: 'Datagrams held for reading', example: 1 })
  heldDatagrams!: number;

  @ApiProperty({ description: 'Payload bytes held for reading', example: 4 })
  heldBytes!: number;

  @ApiProperty({ description: 'Datagrams dropped so far because the socket held its cap', example: 0 })
  dropped!: number;
}

export class UdpErrorDto {
  @ApiProperty({ description: 'Operating system error code', example: 'ECONNREFUSED' })
  errno!: string;

  @ApiProperty({ example: 'recvmsg ECONNREFUSED' })
  message!: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-25T16:30:01.000Z' })
  at!: string;
}

export class UdpSocketDto {
  @ApiProperty({ example: 'us_000001a1b2c3d4e5' })
  id!: string;

  @ApiProperty({ type: String, nullable: true, description: 'Its name, unique among your UDP sockets; null when it has none', example: 'dns' })
  name!: string | null;

  @ApiProperty({ enum: ['udp-socket'], example: 'udp-socket' })
  kind!: 'udp-socket';

  @ApiProperty({ enum: UDP_TYPES, example: 'udp4' })
  type!: string;

  @ApiProperty({ enum: Object.values(UdpSocketState), example: 'bound' })
  state!: string;

  @ApiProperty({ type: EndpointDto, nullable: true, description: 'The address as bound, with the real port' })
  local!: EndpointDto | null;

  @ApiProperty({ type: EndpointDto, nullable: true, description: 'The default peer (connected UDP); null when not connected' })
  remote!: EndpointDto | null;

  @ApiProperty({ type: UdpSocketOptionsDto })
  options!: UdpSocketOptionsDto;

  @ApiProperty({ type: UdpCountersDto })
  counters!: UdpCountersDto;

  @ApiProperty({ type: DatagramBufferStateDto })
  buffer!: DatagramBufferStateDto;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, example: { demo: 'tutorial' } })
  labels!: Record<string, string>;

  @ApiProperty({ format: 'date-time', example: '2026-11-25T16:30:00.000Z' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-25T16:30:01.000Z', description: 'Last time a datagram came or went' })
  lastActivityAt!: string;

  @ApiPropertyOptional({
    type: UdpErrorDto,
    nullable: true,
    description: 'The latest error that did not close the socket (e.g. ECONNREFUSED when a connected peer’s port is closed, reported by ICMP); null if none',
  })
  lastError!: UdpErrorDto | null;

  @ApiPropertyOptional({ type: CloseInfoDto, nullable: true, description: 'Why it closed; null while bound' })
  closed!: CloseInfoDto | null;
}

export class UdpSocketPageDto {
  @ApiProperty({ type: [UdpSocketDto] })
  items!: UdpSocketDto[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last one', example: null })
  nextCursor!: string | null;
}

export function toDatagramBufferStateDto(socket: UdpSocket): DatagramBufferStateDto {
  return { ...socket.buffer, dropped: socket.dropped };
}

export function toUdpSocketDto(socket: UdpSocket): UdpSocketDto {
  const { options } = socket;
  return {
    id: socket.id,
    name: socket.name,
    kind: socket.kind,
    type: options.type,
    state: socket.state,
    local: toEndpointDto(socket.local),
    remote: toEndpointDto(socket.remote),
    options: {
      mode: options.mode,
      reuseAddr: options.reuseAddr,
      ipv6Only: options.ipv6Only,
      broadcast: options.broadcast,
      ttl: options.ttl,
      ...socket.bufferSizes,
      multicast: options.multicast && { ...options.multicast, groups: [...options.multicast.groups] },
      maxDatagrams: options.maxDatagrams,
      maxBufferedBytes: options.maxBufferedBytes,
    },
    counters: {
      datagramsIn: socket.datagramsIn,
      datagramsOut: socket.datagramsOut,
      bytesIn: socket.bytesIn,
      bytesOut: socket.bytesOut,
      dropped: socket.dropped,
    },
    buffer: toDatagramBufferStateDto(socket),
    labels: { ...socket.labels },
    createdAt: socket.createdAt.toISOString(),
    lastActivityAt: socket.lastActivityAt.toISOString(),
    lastError: socket.lastError && { errno: socket.lastError.errno, message: socket.lastError.message, at: socket.lastError.at.toISOString() },
    closed: toCloseInfoDto(socket.closed),
  };
}
