import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Caller } from '../auth/caller';
import { Owner } from '../auth/owner.decorator';
import { ApiIdParam, ApiKeyAuth, ApiProblems } from '../common/api-docs';
import { PageQueryDto } from '../common/dto/page-query.dto';
import { Validated } from '../common/route-validation';
import { ChangeTcpProxyDto, CreateTcpProxyDto } from './dto/create-tcp-proxy.dto';
import { TcpProxyDto, TcpProxyPageDto } from './dto/tcp-proxy.dto';
import { TcpProxiesService } from './tcp-proxies.service';

const PROXY_ID = ApiIdParam('tcpProxy');

@ApiTags('Proxies')
@ApiKeyAuth()
@Controller('v1/tcp/proxies')
export class TcpProxiesController {
  constructor(private readonly proxies: TcpProxiesService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Open a TCP proxy',
    description:
      'Listens on `listen`; each client it accepts is paired with a new connection to `upstream` (checked against the network policy like any connect), ' +
      'and what one half receives the other sends. Both halves are ordinary /v1/tcp/connections, linked by `proxy.peerConnectionId`; closing one closes ' +
      'the pair. `faults` are created with the proxy, or none is (docs/faults.md). When the upstream cannot be reached the client is closed at once, ' +
      'or with `whenUpstreamDown: refuse` new clients are reset until a dial succeeds.',
  })
  @ApiBody({
    type: CreateTcpProxyDto,
    examples: {
      toxiproxyLike: {
        summary: 'A proxy to the tutorial’s echo server on 65432, listening on a free port',
        value: { name: 'tutorial', listen: { host: '127.0.0.1', port: 0 }, upstream: { host: '127.0.0.1', port: 65432 }, labels: { demo: 'proxy' } },
      },
      slowReplies: {
        summary: 'The same with 200 ms on every reply',
        value: {
          listen: { host: '127.0.0.1', port: 0 },
          upstream: { host: '127.0.0.1', port: 65432 },
          faults: [{ type: 'latency', direction: 'toPeer', attributes: { ms: 200 } }],
          labels: { demo: 'proxy' },
        },
      },
      tlsInTheMiddle: {
        summary: 'TLS both ways to the TLS echo server on 65443 (the “tlsEcho” example of POST /v1/tcp/listeners), the clear bytes recorded',
        value: {
          listen: { host: '127.0.0.1', port: 0 },
          upstream: { host: '127.0.0.1', port: 65443 },
          tls: { listen: { mode: 'implicit' }, upstream: { mode: 'implicit', ca: 'instance', servername: 'localhost' } },
          record: true,
          labels: { demo: 'proxy' },
        },
      },
      recorded: {
        summary: 'Keep what crosses in the halves’ byte logs',
        value: { listen: { host: '127.0.0.1', port: 0 }, upstream: { host: '127.0.0.1', port: 65432 }, record: true, labels: { demo: 'proxy' } },
      },
    },
  })
  @ApiResponse({ status: 201, type: TcpProxyDto, description: 'Listening' })
  @ApiProblems(
    'VALIDATION_FAILED',
    'MALFORMED_REQUEST',
    'POLICY_DENIED',
    'NAME_NOT_RESOLVED',
    'ADDRESS_NOT_AVAILABLE',
    'ADDRESS_IN_USE',
    'PERMISSION_DENIED',
    'PROXY_EXISTS',
    'FAULT_NOT_APPLICABLE',
    'QUOTA_EXCEEDED',
    'UNSUPPORTED_MEDIA_TYPE',
    'CERTIFICATE_NOT_FOUND',
    'CERTIFICATE_INVALID',
  )
  @Validated({ body: CreateTcpProxyDto })
  createTcpProxy(@Body() body: CreateTcpProxyDto, @Owner() caller: Caller): Promise<TcpProxyDto> {
    return this.proxies.create(body, caller);
  }

  @Get()
  @ApiOperation({ summary: 'List TCP proxies', description: 'Oldest first, filtered by labels, a page at a time.' })
  @ApiResponse({ status: 200, type: TcpProxyPageDto })
  @ApiProblems('VALIDATION_FAILED', 'INVALID_CURSOR')
  @Validated({ query: PageQueryDto })
  listTcpProxies(@Query() query: PageQueryDto, @Owner() caller: Caller): TcpProxyPageDto {
    return this.proxies.list(query, caller);
  }

  @Get(':id')
  @PROXY_ID
  @ApiOperation({ summary: 'Get a TCP proxy', description: 'Where it listens, its upstream, its open pairs (both connection ids), its faults and counters.' })
  @ApiResponse({ status: 200, type: TcpProxyDto })
  @ApiProblems('SOCKET_NOT_FOUND')
  getTcpProxy(@Param('id') id: string, @Owner() caller: Caller): TcpProxyDto {
    return this.proxies.get(id, caller);
  }

  @Patch(':id')
  @PROXY_ID
  @ApiOperation({
    summary: 'Turn a TCP proxy on or off, or move its upstream',
    description: '`enabled: false` resets its open pairs and every new client until `enabled: true`; a new `upstream` is used from the next client on.',
  })
  @ApiBody({ type: ChangeTcpProxyDto, examples: { off: { summary: 'Cut everything', value: { enabled: false } }, on: { summary: 'Let clients through again', value: { enabled: true } } } })
  @ApiResponse({ status: 200, type: TcpProxyDto })
  @ApiProblems('SOCKET_NOT_FOUND', 'VALIDATION_FAILED', 'MALFORMED_REQUEST', 'POLICY_DENIED', 'NAME_NOT_RESOLVED', 'UNSUPPORTED_MEDIA_TYPE')
  @Validated({ body: ChangeTcpProxyDto })
  changeTcpProxy(@Param('id') id: string, @Body() body: ChangeTcpProxyDto, @Owner() caller: Caller): Promise<TcpProxyDto> {
    return this.proxies.change(id, body, caller);
  }

  @Delete(':id')
  @HttpCode(200)
  @PROXY_ID
  @ApiOperation({ summary: 'Close a TCP proxy', description: 'Stops its listener, resets its pairs and removes its faults. Answers with its last state.' })
  @ApiResponse({ status: 200, type: TcpProxyDto })
  @ApiProblems('SOCKET_NOT_FOUND')
  deleteTcpProxy(@Param('id') id: string, @Owner() caller: Caller): Promise<TcpProxyDto> {
    return this.proxies.remove(id, caller);
  }
}
