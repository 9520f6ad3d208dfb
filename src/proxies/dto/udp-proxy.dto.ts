import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { EndpointDto, toEndpointDto } from '../../common/dto/socket-common.dto';
import { IsIntegerField, IsLabels, IsNestedList, IsNestedObject } from '../../common/validation';
import { ProxyListenDto, ProxyUpstreamDto } from './create-tcp-proxy.dto';
import { InlineFaultDto } from '../../faults/dto/create-fault.dto';
import { UdpProxy } from '../../sockets/proxy/udp-proxies';
import { ProxyUpstreamStateDto } from './tcp-proxy.dto';

export class CreateUdpProxyDto {
  @IsNestedObject(ProxyListenDto, { required: true, description: 'Where it receives clients’ datagrams' })
  listen!: ProxyListenDto;

  @IsNestedObject(ProxyUpstreamDto, { required: true, description: 'Where it relays them' })
  upstream!: ProxyUpstreamDto;

  @IsIntegerField({ min: 100, max: 86_400_000, description: 'A client’s mapping (its own upstream socket) closes after this long without a datagram either way', default: 60_000, example: 60000 })
  idleTimeoutMs!: number;

  @IsIntegerField({
    min: 1,
    max: 65_536,
    description: 'Clients with a mapping at once (each holds an upstream socket, counted in the socket quotas); datagrams from a new client past it, or past a quota, are dropped and counted in `clientsRefused`',
    default: 1024,
    example: 1024,
  })
  maxClients!: number;

  @IsLabels()
  labels!: Record<string, string>;

  @IsNestedList(InlineFaultDto, { minItems: 0, maxItems: 100, description: 'UDP faults (drop, duplicate, reorder, latency) from its start, created with it or not at all', default: [] })
  faults!: InlineFaultDto[];
}

export class UdpProxyCountersDto {
  @ApiProperty({ description: 'Datagrams received from clients', example: 1 })
  datagramsIn!: number;

  @ApiProperty({ description: 'Datagrams sent to clients', example: 1 })
  datagramsOut!: number;

  @ApiProperty({ description: 'Datagrams relayed to the upstream (after faults)', example: 1 })
  relayedUp!: number;

  @ApiProperty({ description: 'Datagrams the upstream answered (before faults)', example: 1 })
  relayedDown!: number;

  @ApiProperty({ description: 'Client mappings opened', example: 1 })
  mappingsOpened!: number;

  @ApiProperty({ description: 'Client mappings closed for being idle', example: 0 })
  mappingsExpired!: number;

  @ApiProperty({ description: 'Datagrams from new clients dropped: the proxy had `maxClients` mappings, or the service or the API key held as many sockets as it may', example: 0 })
  clientsRefused!: number;
}

export class UdpProxyDto {
  @ApiProperty({ example: 'up_000001a1b2c3d4e5' })
  id!: string;

  @ApiProperty({ enum: ['udp-proxy'], example: 'udp-proxy' })
  kind!: 'udp-proxy';

  @ApiProperty({ enum: ['open', 'closed'], example: 'open' })
  state!: string;

  @ApiPropertyOptional({ type: EndpointDto, nullable: true, description: 'Where it receives, with the real port' })
  listen!: EndpointDto | null;

  @ApiProperty({ type: ProxyUpstreamStateDto })
  upstream!: ProxyUpstreamStateDto;

  @ApiProperty({ example: 60000 })
  idleTimeoutMs!: number;

  @ApiProperty({ example: 1024 })
  maxClients!: number;

  @ApiProperty({ type: [EndpointDto], description: 'Clients with a mapping now' })
  clients!: EndpointDto[];

  @ApiProperty({ type: [String], description: 'Faults on it (see /v1/faults)', example: ['ft_000003a1b2c3d4e5'] })
  faults!: string[];

  @ApiProperty({ type: UdpProxyCountersDto })
  counters!: UdpProxyCountersDto;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, example: { demo: 'udp' } })
  labels!: Record<string, string>;

  @ApiProperty({ format: 'date-time', example: '2026-11-25T16:30:00.000Z' })
  createdAt!: string;
}

export class UdpProxyPageDto {
  @ApiProperty({ type: [UdpProxyDto] })
  items!: UdpProxyDto[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last one', example: null })
  nextCursor!: string | null;
}

export function toUdpProxyDto(proxy: UdpProxy, faultIds: string[]): UdpProxyDto {
  const { datagramsIn, datagramsOut, relayedUp, relayedDown, mappingsOpened, mappingsExpired, clientsRefused } = proxy.counters;
  return {
    id: proxy.id,
    kind: proxy.kind,
    state: proxy.state,
    listen: toEndpointDto(proxy.local),
    upstream: { ...proxy.upstream },
    idleTimeoutMs: proxy.idleTimeoutMs,
    maxClients: proxy.maxClients,
    clients: proxy.clients.map((client) => ({ ...client })),
    faults: faultIds,
    counters: { datagramsIn, datagramsOut, relayedUp, relayedDown, mappingsOpened, mappingsExpired, clientsRefused },
    labels: { ...proxy.labels },
    createdAt: proxy.createdAt.toISOString(),
  };
}
