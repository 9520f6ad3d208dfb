import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Caller } from '../auth/caller';
import { Owner } from '../auth/owner.decorator';
import { ClientGone } from '../common/abort-signal.decorator';
import { ApiIdParam, ApiKeyAuth, ApiProblems } from '../common/api-docs';
import { Validated } from '../common/route-validation';
import { AcceptedPageDto } from './dto/connection.dto';
import { CreateListenerDto } from './dto/create-listener.dto';
import { AcceptedQueryDto, DeleteListenerQueryDto, ListListenersQueryDto } from './dto/list-queries.dto';
import { ListenerDto, ListenerPageDto } from './dto/listener.dto';
import { KEY_VALUE_RULES, SMTP_RULES } from '../rules/rule-examples';
import { TcpService } from './tcp.service';

const LISTENER_ID = ApiIdParam('listener');

@ApiTags('TCP listeners')
@ApiKeyAuth()
@Controller('v1/tcp/listeners')
export class ListenersController {
  constructor(private readonly tcp: TcpService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Open a TCP listener',
    description:
      'Binds and listens (socket → bind → listen). Port 0 takes a free port; the answer shows the real one. ' +
      'Connections it accepts appear at once under /v1/tcp/connections with this listener’s id. ' +
      'In `echo` mode it is the tutorial’s echo server. With `tls.mode: implicit` every accepted connection handshakes TLS first ' +
      '(docs/tls.md), presenting a leaf the instance CA mints for the name the client asks for, or `tls.certificate`. ' +
      'With `rules`, each accepted connection answers by itself (docs/rules.md).',
  })
  @ApiBody({
    type: CreateListenerDto,
    examples: {
      echo: { summary: 'Echo server on a free port', value: { host: '127.0.0.1', port: 0, mode: 'echo', labels: { demo: 'tutorial' } } },
      tutorial: {
        summary: 'Echo server on the tutorial’s port 65432 (its client.py connects there)',
        value: { host: '127.0.0.1', port: 65432, mode: 'echo', labels: { demo: 'tutorial' } },
      },
      buffer: { summary: 'Keep received bytes for reads', value: { host: '127.0.0.1', port: 0, mode: 'buffer' } },
      tlsEcho: {
        summary: 'TLS echo server on port 65443, with leaves the instance CA mints per SNI name (the connection example “tls” dials it)',
        value: { host: '127.0.0.1', port: 65443, mode: 'echo', tls: { mode: 'implicit' }, labels: { demo: 'tls' } },
      },
      lines: { summary: 'A line protocol: accepted connections framed as lines (read them at …/frames)', value: { host: '127.0.0.1', port: 0, framing: { type: 'lines' } } },
      hl7: { summary: 'An HL7 receiver: accepted connections framed as MLLP', value: { host: '127.0.0.1', port: 0, framing: { type: 'mllp', onError: 'close' } } },
      smtp: {
        summary: 'An SMTP server made of reply rules, with STARTTLS (Python’s smtplib mails through it; docs/rules.md)',
        value: { host: '127.0.0.1', port: 0, framing: { type: 'lines' }, tls: { mode: 'starttls' }, rules: SMTP_RULES },
      },
      keyValue: {
        summary: 'A line-protocol key-value server made of reply rules (PING, GET <key>, SET, QUIT)',
        value: { host: '127.0.0.1', port: 0, framing: { type: 'lines' }, rules: KEY_VALUE_RULES },
      },
    },
  })
  @ApiResponse({ status: 201, type: ListenerDto, description: 'Listening' })
  @ApiProblems(
    'VALIDATION_FAILED',
    'MALFORMED_REQUEST',
    'ADDRESS_NOT_AVAILABLE',
    'PERMISSION_DENIED',
    'POLICY_DENIED',
    'ADDRESS_IN_USE',
    'UNSUPPORTED_MEDIA_TYPE',
    'QUOTA_EXCEEDED',
    'TOO_MANY_OPEN_FILES',
    'CERTIFICATE_NOT_FOUND',
    'CERTIFICATE_INVALID',
    'NAME_IN_USE',
  )
  @Validated({ body: CreateListenerDto })
  createListener(@Body() body: CreateListenerDto, @Owner() caller: Caller): Promise<ListenerDto> {
    return this.tcp.createListener(body, caller);
  }

  @Get()
  @ApiOperation({ summary: 'List TCP listeners', description: 'Oldest first, filtered by state and labels, a page at a time.' })
  @ApiResponse({ status: 200, type: ListenerPageDto })
  @ApiProblems('VALIDATION_FAILED', 'INVALID_CURSOR')
  @Validated({ query: ListListenersQueryDto })
  listListeners(@Query() query: ListListenersQueryDto, @Owner() caller: Caller): ListenerPageDto {
    return this.tcp.listListeners(query, caller);
  }

  @Get(':id')
  @LISTENER_ID
  @ApiOperation({ summary: 'Get a TCP listener', description: 'Its bound address, options, counters and state.' })
  @ApiResponse({ status: 200, type: ListenerDto })
  @ApiProblems('SOCKET_NOT_FOUND')
  getListener(@Param('id') id: string, @Owner() caller: Caller): ListenerDto {
    return this.tcp.getListener(id, caller);
  }

  @Delete(':id')
  @HttpCode(200)
  @LISTENER_ID
  @ApiOperation({
    summary: 'Close a TCP listener',
    description: 'Stops listening and forgets the listener. Its connections stay open unless `closeConnections=true`. Answers with its last state.',
  })
  @ApiResponse({ status: 200, type: ListenerDto, description: 'Closed' })
  @ApiProblems('SOCKET_NOT_FOUND', 'VALIDATION_FAILED')
  @Validated({ query: DeleteListenerQueryDto })
  deleteListener(@Param('id') id: string, @Query() query: DeleteListenerQueryDto, @Owner() caller: Caller): Promise<ListenerDto> {
    return this.tcp.deleteListener(id, query.closeConnections, caller);
  }

  @Get(':id/connections')
  @LISTENER_ID
  @ApiOperation({
    summary: 'Wait for accepted connections',
    description:
      'The connections this listener accepted with an accept index above `after`, oldest first (accept()). With `waitMs` the call ' +
      'holds until one arrives: pass the previous answer’s `lastAcceptIndex` as `after` to wait for the next.',
  })
  @ApiResponse({ status: 200, type: AcceptedPageDto })
  @ApiProblems('SOCKET_NOT_FOUND', 'VALIDATION_FAILED', 'QUOTA_EXCEEDED')
  @Validated({ query: AcceptedQueryDto })
  listAcceptedConnections(
    @Param('id') id: string,
    @Query() query: AcceptedQueryDto,
    @ClientGone() signal: AbortSignal,
    @Owner() caller: Caller,
  ): Promise<AcceptedPageDto> {
    return this.tcp.listAccepted(id, query, signal, caller);
  }
}
