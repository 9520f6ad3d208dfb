import { Body, Controller, Get, Param, Post, Query, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { FastifyReply } from 'fastify';
import { Caller } from '../auth/caller';
import { Owner } from '../auth/owner.decorator';
import { ApiIdParam, ApiKeyAuth } from '../common/api-docs';
import { AttachRoute, AttachTicketRoute } from './attach-docs';
import { upgradeRequired } from './attach-routes';
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
  @AttachRoute('tcp', AttachConnectionQueryDto, {
    summary: 'Attach a WebSocket to a TCP connection',
    description:
      'Streams the connection’s bytes both ways over one WebSocket: received bytes as they arrive (after replaying the byte log from ' +
      '`fromOffset`, with no byte missed or repeated at the switch), and what the client sends as the connection’s sends. Several readers ' +
      'may attach at once. A slow reader pauses the connection’s reading (TCP pushes back on the peer); a fast writer is paused while the ' +
      'connection’s write buffer is full. A plain GET answers 426.',
  })
  // The query is read by `AttachService.admit`, which runs before this handler; here it documents the operation.
  attachConnection(@Query() _query: AttachConnectionQueryDto, @Res({ passthrough: true }) reply: FastifyReply): never {
    throw upgradeRequired(reply);
  }

  @Post(':id/attach-tickets')
  @CONNECTION_ID
  @AttachTicketRoute('TCP connection')
  createConnectionAttachTicket(@Param('id') id: string, @Body() body: AttachTicketDto, @Owner() caller: Caller): AttachTicketResultDto {
    return toAttachTicketDto(this.attach.issueTicket('tcp', id, body, caller), `/v1/tcp/connections/${id}/attach`);
  }
}
