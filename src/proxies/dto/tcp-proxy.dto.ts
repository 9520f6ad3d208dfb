import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { EndpointDto, toEndpointDto } from '../../common/dto/socket-common.dto';
import { TcpProxy, TcpProxyState, UPSTREAM_DOWN_ACTIONS } from '../../sockets/proxy/tcp-proxy';

export class ProxyUpstreamStateDto {
  @ApiProperty({ example: '127.0.0.1' })
  host!: string;

  @ApiProperty({ example: 65432 })
  port!: number;
}

export class ProxyTlsStateDto {
  @ApiProperty({ enum: ['implicit', 'off'], description: '`implicit`: clients handshake TLS with the proxy', example: 'off' })
  listen!: 'implicit' | 'off';

  @ApiProperty({ enum: ['implicit', 'off'], description: '`implicit`: the proxy speaks TLS to the upstream', example: 'off' })
  upstream!: 'implicit' | 'off';
}

export class ProxyPairDto {
  @ApiProperty({ description: 'The connection the proxy accepted from the client', example: 'tc_000004a1b2c3d4e5' })
  clientConnectionId!: string;

  @ApiProperty({ description: 'The connection it made to the upstream for it', example: 'tc_000005a1b2c3d4e5' })
  upstreamConnectionId!: string;
}

export class ProxyCountersDto {
  @ApiProperty({ description: 'Clients accepted', example: 1 })
  accepted!: number;

  @ApiProperty({ description: 'Clients reset at once (disabled, a refuse fault, the upstream down)', example: 0 })
  refused!: number;

  @ApiProperty({ description: 'Dials to the upstream that failed', example: 0 })
  upstreamFailures!: number;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'Why the last dial failed', example: null })
  lastUpstreamError!: string | null;
}

export class TcpProxyDto {
  @ApiProperty({ example: 'tp_000001a1b2c3d4e5' })
  id!: string;

  @ApiProperty({ enum: ['tcp-proxy'], example: 'tcp-proxy' })
  kind!: 'tcp-proxy';

  @ApiProperty({ example: 'tutorial' })
  name!: string;

  @ApiProperty({ enum: Object.values(TcpProxyState), example: 'enabled' })
  state!: string;

  @ApiProperty({ example: true })
  enabled!: boolean;

  @ApiProperty({ description: 'Its listener (an ordinary /v1/tcp/listeners resource)', example: 'tl_000002a1b2c3d4e5' })
  listenerId!: string;

  @ApiPropertyOptional({ type: EndpointDto, nullable: true, description: 'Where it listens, with the real port' })
  listen!: EndpointDto | null;

  @ApiProperty({ type: ProxyUpstreamStateDto })
  upstream!: ProxyUpstreamStateDto;

  @ApiProperty({ example: false })
  record!: boolean;

  @ApiProperty({ type: ProxyTlsStateDto, description: 'Where it speaks TLS' })
  tls!: ProxyTlsStateDto;

  @ApiProperty({ enum: UPSTREAM_DOWN_ACTIONS, example: 'close' })
  whenUpstreamDown!: string;

  @ApiProperty({ example: 10000 })
  connectTimeoutMs!: number;

  @ApiProperty({ type: [ProxyPairDto], description: 'Its open connection pairs, both halves listed under /v1/tcp/connections' })
  pairs!: ProxyPairDto[];

  @ApiProperty({ type: [String], description: 'Faults on it (see /v1/faults)', example: ['ft_000003a1b2c3d4e5'] })
  faults!: string[];

  @ApiProperty({ type: ProxyCountersDto })
  counters!: ProxyCountersDto;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, example: { demo: 'tutorial' } })
  labels!: Record<string, string>;

  @ApiProperty({ format: 'date-time', example: '2026-11-25T16:30:00.000Z' })
  createdAt!: string;
}

export class TcpProxyPageDto {
  @ApiProperty({ type: [TcpProxyDto] })
  items!: TcpProxyDto[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last one', example: null })
  nextCursor!: string | null;
}

export function toTcpProxyDto(proxy: TcpProxy, faultIds: string[]): TcpProxyDto {
  const { options } = proxy;
  return {
    id: proxy.id,
    kind: proxy.kind,
    name: proxy.name,
    state: proxy.state,
    enabled: proxy.enabled,
    listenerId: proxy.listener.id,
    listen: toEndpointDto(proxy.listener.local),
    upstream: { ...options.upstream },
    record: options.record,
    tls: { listen: proxy.listener.options.tls ? 'implicit' : 'off', upstream: options.upstreamTls ? 'implicit' : 'off' },
    whenUpstreamDown: options.whenUpstreamDown,
    connectTimeoutMs: options.connectTimeoutMs,
    pairs: proxy.pairs.map((pair) => ({ clientConnectionId: pair.client.id, upstreamConnectionId: pair.upstream.id })),
    faults: faultIds,
    counters: proxy.counters,
    labels: { ...proxy.labels },
    createdAt: proxy.createdAt.toISOString(),
  };
}
