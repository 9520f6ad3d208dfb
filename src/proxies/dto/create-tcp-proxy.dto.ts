import { IsBindHost, IsBooleanField, IsHost, IsIntegerField, IsLabels, IsNestedList, IsNestedObject, IsOneOf, IsPort, IsText } from '../../common/validation';
import { UPSTREAM_DOWN_ACTIONS, UpstreamDownAction } from '../../sockets/proxy/tcp-proxy';
import { InlineFaultDto } from '../../faults/dto/create-fault.dto';
import { ConnectionTlsRequestDto } from '../../tls/dto/connection-tls-request.dto';
import { ListenerTlsDto } from '../../tls/dto/listener-tls.dto';

export class ProxyListenDto {
  @IsBindHost({ description: 'Local address the proxy listens on (`::1` for IPv6)', default: '127.0.0.1', example: '127.0.0.1' })
  host!: string;

  @IsPort({ allowZero: true, required: false, description: 'Port to listen on; 0 takes a free one (the answer shows it)', default: 0, example: 0 })
  port!: number;
}

export class ProxyUpstreamDto {
  @IsHost({ description: 'Where clients are relayed to: an IP address or a host name, checked against the network policy', example: '127.0.0.1' })
  host!: string;

  @IsPort({ allowZero: false, description: 'The upstream’s port', example: 65432 })
  port!: number;
}

export class ProxyTlsDto {
  @IsNestedObject(ListenerTlsDto, { description: 'TLS the proxy terminates: `mode: implicit`, clients handshake with the proxy (a leaf the instance CA mints per SNI name, or `certificate`); omitted: plain' })
  listen?: ListenerTlsDto;

  @IsNestedObject(ConnectionTlsRequestDto, { description: 'TLS the proxy originates towards the upstream (`mode: implicit`); omitted: plain' })
  upstream?: ConnectionTlsRequestDto;
}

export class CreateTcpProxyDto {
  @IsText({
    minLength: 1,
    maxLength: 64,
    description: 'A name unique among proxies (Toxiproxy’s API finds proxies by it); omitted: its id',
    example: 'tutorial',
    pattern: { source: '^[A-Za-z0-9._-]+$', message: 'name must be letters, digits and . _ -' },
  })
  name?: string;

  @IsNestedObject(ProxyListenDto, { required: true, description: 'Where it listens' })
  listen!: ProxyListenDto;

  @IsNestedObject(ProxyUpstreamDto, { required: true, description: 'What it connects each client to' })
  upstream!: ProxyUpstreamDto;

  @IsNestedObject(ProxyTlsDto, { description: 'TLS on either side: the proxy holds both ends, so it sees the bytes in clear between them (docs/proxies.md)' })
  tls?: ProxyTlsDto;

  @IsOneOf(['on-accept'], { description: 'When the upstream half is dialled: as each client is accepted', default: 'on-accept', example: 'on-accept' })
  connectUpstream!: 'on-accept';

  @IsBooleanField({ description: '`false`: its listener stays bound but resets every client', default: true })
  enabled!: boolean;

  @IsBooleanField({ description: 'Keep the bytes each way in the halves’ byte logs, to read afterwards (reading pauses at the buffer cap until released)', default: false })
  record!: boolean;

  @IsOneOf(UPSTREAM_DOWN_ACTIONS, {
    description: 'When the upstream cannot be reached: `close` the client at once, or `refuse` (reset) new clients until a dial succeeds again',
    default: 'close',
    example: 'close',
  })
  whenUpstreamDown!: UpstreamDownAction;

  @IsIntegerField({ min: 1, max: 120_000, description: 'Give up dialling the upstream after this long', default: 10_000, example: 5000 })
  connectTimeoutMs!: number;

  @IsIntegerField({ min: 0, max: 86_400_000, description: 'Close each half after this long without traffic; 0 = never. Omitted: the server default (SOCKPLANE_IDLE_TIMEOUT_MS)', example: 0 })
  idleTimeoutMs?: number;

  @IsLabels()
  labels!: Record<string, string>;

  @IsNestedList(InlineFaultDto, { minItems: 0, maxItems: 100, description: 'Faults on the proxy from its start, created with it or not at all', default: [] })
  faults!: InlineFaultDto[];
}

export class ChangeTcpProxyDto {
  @IsBooleanField({ description: '`false` resets its connections and every new client; `true` lets clients through again' })
  enabled?: boolean;

  @IsNestedObject(ProxyUpstreamDto, { description: 'A new upstream, for clients from now on' })
  upstream?: ProxyUpstreamDto;
}
