import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { FastifyReply } from 'fastify';
import { TICKET_AUTH } from '../auth/api-key.hook';
import { Caller } from '../auth/caller';
import { Owner } from '../auth/owner.decorator';
import { ApiIdParam, ApiKeyAuth, ApiProblems } from '../common/api-docs';
import { Validated } from '../common/route-validation';
import { ATTACH_PROTOCOL_MARKDOWN, ApiUpgrade } from './attach-docs';
import { ATTACH_ROUTE, upgradeRequired } from './attach-routes';
import { AttachService } from './attach.service';
import { AttachConnectionQueryDto } from './dto/attach-query.dto';
import { AttachTicketDto, AttachTicketResultDto, toAttachTicketDto } from './dto/attach-ticket.dto';

const CONNECTION_ID = ApiIdParam('connection');

@ApiTags('TCP connections')
@ApiKeyAuth()
@Controller('v1/tcp/connections')
export class ConnectionAttachController {
  constructor(private readonly attach: AttachService) {}

  @Get(':id/attach')
  @CONNECTION_ID
  @RouteConfig({ [ATTACH_ROUTE]: 'tcp', [TICKET_AUTH]: true })
  @ApiOperation({
    summary: 'Attach a WebSocket to a TCP connection',
    description:
      'Streams the connection’s bytes both ways over one WebSocket: received bytes as they arrive (after replaying the byte log from ' +
      '`fromOffset`, with no byte missed or repeated at the switch), and what the client sends as the connection’s sends. Several readers ' +
      'may attach at once. A slow reader pauses the connection’s reading (TCP pushes back on the peer); a fast writer is paused while the ' +
      'connection’s write buffer is full. A plain GET answers 426.\n\n' +
      ATTACH_PROTOCOL_MARKDOWN,
  })
  @ApiUpgrade()
  @ApiProblems(
    'VALIDATION_FAILED',
    'UNAUTHORIZED',
    'TICKET_INVALID',
    'CROSS_ORIGIN_DENIED',
    'SOCKET_NOT_FOUND',
    'SOCKET_CLOSED',
    'WRITER_ATTACHED',
    'UPGRADE_REQUIRED',
  )
  @Validated({ query: AttachConnectionQueryDto })
  // The query is read by `AttachService.admit`, which runs before this handler; here it documents the operation.
  attachConnection(@Query() _query: AttachConnectionQueryDto, @Res({ passthrough: true }) reply: FastifyReply): never {
    throw upgradeRequired(reply);
  }

  @Post(':id/attach-tickets')
  @HttpCode(201)
  @CONNECTION_ID
  @ApiOperation({
    summary: 'Get a ticket to attach to a TCP connection',
    description:
      'A one-time ticket for `GET …/attach?ticket=`, valid for 30 s and for this connection only: browsers cannot send `Authorization` ' +
      'on a WebSocket. The ticket acts for the key that asked for it; `write: true` lets it attach with `write=true`.',
  })
  @ApiBody({
    type: AttachTicketDto,
    examples: {
      read: { summary: 'To watch the connection', value: { write: false } },
      write: { summary: 'To watch it and send to the peer', value: { write: true } },
    },
  })
  @ApiResponse({ status: 201, type: AttachTicketResultDto, description: 'Issued' })
  @ApiProblems('VALIDATION_FAILED', 'MALFORMED_REQUEST', 'UNSUPPORTED_MEDIA_TYPE', 'SOCKET_NOT_FOUND')
  @Validated({ body: AttachTicketDto })
  createConnectionAttachTicket(@Param('id') id: string, @Body() body: AttachTicketDto, @Owner() caller: Caller): AttachTicketResultDto {
    return toAttachTicketDto(this.attach.issueTicket('tcp', id, body, caller), `/v1/tcp/connections/${id}/attach`);
  }
}
