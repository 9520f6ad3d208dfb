import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Caller } from '../auth/caller';
import { Owner } from '../auth/owner.decorator';
import { ApiIdParam, ApiKeyAuth, ApiProblems } from '../common/api-docs';
import { Validated } from '../common/route-validation';
import { ChangeFaultDto, CreateFaultDto, ReplaceFaultsDto } from './dto/create-fault.dto';
import { FaultDto, FaultListDto, FaultPageDto } from './dto/fault.dto';
import { ListFaultsQueryDto } from './dto/list-faults.dto';
import { FaultsService } from './faults.service';

const FAULT_ID = ApiIdParam('fault');

@ApiTags('Faults')
@ApiKeyAuth()
@Controller('v1/faults')
export class FaultsController {
  constructor(private readonly faults: FaultsService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Put a fault on a proxy, listener or connection',
    description:
      'A fault acts on the bytes of the connections of its target: a TCP proxy (its clients’ halves), a listener (the connections it accepts, ' +
      'from now on and those it holds) or one connection. `select` picks the connections (a network, a seeded share rolled once per connection), ' +
      '`trigger` delays it (after so many bytes or milliseconds), `expiresAfterMs` ends it. docs/faults.md describes each type and its attributes.',
  })
  @ApiBody({
    type: CreateFaultDto,
    examples: {
      latency: {
        summary: '100 ms on the replies of the proxy named “tutorial” (the first example of POST /v1/tcp/proxies creates it)',
        value: { target: 'tutorial', type: 'latency', direction: 'toPeer', attributes: { ms: 100 } },
      },
      reset: {
        summary: 'Reset half of its clients (seeded) 2 s after they connect',
        value: { target: 'tutorial', type: 'close', attributes: { afterMs: 2000, how: 'rst' }, select: { probability: 0.5, seed: 7 } },
      },
      refuse: { summary: 'Reset every new client at once', value: { target: 'tutorial', type: 'refuse' } },
      slowStart: { summary: 'Hold the first reply byte 500 ms, for clients from 127.0.0.0/8', value: { target: 'tutorial', type: 'firstByteDelay', direction: 'toPeer', attributes: { ms: 500 }, select: { remoteCidr: '127.0.0.0/8' } } },
    },
  })
  @ApiResponse({ status: 201, type: FaultDto, description: 'In force' })
  @ApiProblems('VALIDATION_FAILED', 'MALFORMED_REQUEST', 'FAULT_TARGET_NOT_FOUND', 'FAULT_NOT_APPLICABLE', 'FAULT_EXISTS', 'UNSUPPORTED_MEDIA_TYPE')
  @Validated({ body: CreateFaultDto })
  createFault(@Body() body: CreateFaultDto, @Owner() caller: Caller): FaultDto {
    return this.faults.create(body, caller);
  }

  @Put()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Replace every fault',
    description: 'Removes the caller’s faults and creates these, all or nothing: one bad fault and nothing changes. Sending the same list again leaves the same faults in force.',
  })
  @ApiBody({
    type: ReplaceFaultsDto,
    examples: {
      none: { summary: 'No faults at all', value: { faults: [] } },
      one: { summary: 'Only 1 KiB/s on the proxy named “tutorial”, shared by all its clients', value: { faults: [{ target: 'tutorial', name: 'thin', type: 'bandwidth', direction: 'both', attributes: { bytesPerSecond: 1024, shared: 'target' } }] } },
    },
  })
  @ApiResponse({ status: 200, type: FaultListDto })
  @ApiProblems('VALIDATION_FAILED', 'MALFORMED_REQUEST', 'FAULT_TARGET_NOT_FOUND', 'FAULT_NOT_APPLICABLE', 'FAULT_EXISTS', 'UNSUPPORTED_MEDIA_TYPE')
  @Validated({ body: ReplaceFaultsDto })
  replaceFaults(@Body() body: ReplaceFaultsDto, @Owner() caller: Caller): FaultListDto {
    return this.faults.replaceAll(body, caller);
  }

  @Get()
  @ApiOperation({ summary: 'List faults', description: 'Oldest first, optionally only those on one target, a page at a time.' })
  @ApiResponse({ status: 200, type: FaultPageDto })
  @ApiProblems('VALIDATION_FAILED', 'INVALID_CURSOR')
  @Validated({ query: ListFaultsQueryDto })
  listFaults(@Query() query: ListFaultsQueryDto, @Owner() caller: Caller): FaultPageDto {
    return this.faults.list(query, caller);
  }

  @Get(':id')
  @FAULT_ID
  @ApiOperation({ summary: 'Get a fault', description: 'What it does, to what, how often it was applied and triggered, and the connections it acts on now.' })
  @ApiResponse({ status: 200, type: FaultDto })
  @ApiProblems('FAULT_NOT_FOUND')
  getFault(@Param('id') id: string, @Owner() caller: Caller): FaultDto {
    return this.faults.get(id, caller);
  }

  @Patch(':id')
  @FAULT_ID
  @ApiOperation({
    summary: 'Change a fault',
    description: 'Changes its direction, attributes, share, trigger or expiry in place, on the connections it acts on. Rolls already made stay: a connection it skipped stays skipped.',
  })
  @ApiBody({ type: ChangeFaultDto, examples: { slower: { summary: 'Make a latency fault 200 ms', value: { attributes: { ms: 200 } } } } })
  @ApiResponse({ status: 200, type: FaultDto })
  @ApiProblems('FAULT_NOT_FOUND', 'VALIDATION_FAILED', 'MALFORMED_REQUEST', 'UNSUPPORTED_MEDIA_TYPE')
  @Validated({ body: ChangeFaultDto })
  changeFault(@Param('id') id: string, @Body() body: ChangeFaultDto, @Owner() caller: Caller): FaultDto {
    return this.faults.change(id, body, caller);
  }

  @Delete(':id')
  @HttpCode(200)
  @FAULT_ID
  @ApiOperation({ summary: 'Remove a fault', description: 'Takes it off every connection; bytes it was holding back go on their way. Answers with its last state.' })
  @ApiResponse({ status: 200, type: FaultDto })
  @ApiProblems('FAULT_NOT_FOUND')
  deleteFault(@Param('id') id: string, @Owner() caller: Caller): FaultDto {
    return this.faults.remove(id, caller);
  }
}
