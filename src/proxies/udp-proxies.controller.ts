import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Caller } from '../auth/caller';
import { Owner } from '../auth/owner.decorator';
import { ApiIdParam, ApiKeyAuth, ApiProblems } from '../common/api-docs';
import { PageQueryDto } from '../common/dto/page-query.dto';
import { Validated } from '../common/route-validation';
import { CreateUdpProxyDto, UdpProxyDto, UdpProxyPageDto } from './dto/udp-proxy.dto';
import { UdpProxiesService } from './udp-proxies.service';

const PROXY_ID = ApiIdParam('udpProxy');

@ApiTags('Proxies')
@ApiKeyAuth()
@Controller('v1/udp/proxies')
export class UdpProxiesController {
  constructor(private readonly proxies: UdpProxiesService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Open a UDP proxy',
    description:
      'Binds `listen`; datagrams from each client address are relayed to `upstream` through a socket of that client’s own, and the replies sent ' +
      'back to that client. A mapping idle for `idleTimeoutMs` closes. UDP faults (drop, duplicate, reorder, latency) act per datagram, seeded.',
  })
  @ApiBody({
    type: CreateUdpProxyDto,
    examples: {
      relay: { summary: 'A relay to the tutorial’s UDP echo server on 65432', value: { listen: { host: '127.0.0.1', port: 0 }, upstream: { host: '127.0.0.1', port: 65432 }, labels: { demo: 'udp' } } },
      lossy: {
        summary: 'The same, dropping a third of the datagrams each way, seeded',
        value: {
          listen: { host: '127.0.0.1', port: 0 },
          upstream: { host: '127.0.0.1', port: 65432 },
          faults: [{ type: 'drop', attributes: { probability: 0.33 }, select: { seed: 42 } }],
          labels: { demo: 'udp' },
        },
      },
    },
  })
  @ApiResponse({ status: 201, type: UdpProxyDto, description: 'Bound' })
  @ApiProblems('VALIDATION_FAILED', 'MALFORMED_REQUEST', 'POLICY_DENIED', 'NAME_NOT_RESOLVED', 'ADDRESS_NOT_AVAILABLE', 'ADDRESS_IN_USE', 'PERMISSION_DENIED', 'FAULT_NOT_APPLICABLE', 'UNSUPPORTED_MEDIA_TYPE')
  @Validated({ body: CreateUdpProxyDto })
  createUdpProxy(@Body() body: CreateUdpProxyDto, @Owner() caller: Caller): Promise<UdpProxyDto> {
    return this.proxies.create(body, caller);
  }

  @Get()
  @ApiOperation({ summary: 'List UDP proxies', description: 'Oldest first, filtered by labels, a page at a time.' })
  @ApiResponse({ status: 200, type: UdpProxyPageDto })
  @ApiProblems('VALIDATION_FAILED', 'INVALID_CURSOR')
  @Validated({ query: PageQueryDto })
  listUdpProxies(@Query() query: PageQueryDto, @Owner() caller: Caller): UdpProxyPageDto {
    return this.proxies.list(query, caller);
  }

  @Get(':id')
  @PROXY_ID
  @ApiOperation({ summary: 'Get a UDP proxy', description: 'Where it listens, its upstream, the clients with a mapping now, its faults and counters.' })
  @ApiResponse({ status: 200, type: UdpProxyDto })
  @ApiProblems('SOCKET_NOT_FOUND')
  getUdpProxy(@Param('id') id: string, @Owner() caller: Caller): UdpProxyDto {
    return this.proxies.get(id, caller);
  }

  @Delete(':id')
  @HttpCode(200)
  @PROXY_ID
  @ApiOperation({ summary: 'Close a UDP proxy', description: 'Closes its socket and every client mapping, and removes its faults. Answers with its last state.' })
  @ApiResponse({ status: 200, type: UdpProxyDto })
  @ApiProblems('SOCKET_NOT_FOUND')
  deleteUdpProxy(@Param('id') id: string, @Owner() caller: Caller): UdpProxyDto {
    return this.proxies.remove(id, caller);
  }
}
