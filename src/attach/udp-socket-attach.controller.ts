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
import { AttachUdpSocketQueryDto } from './dto/attach-query.dto';
import { AttachTicketDto, AttachTicketResultDto, toAttachTicketDto } from './dto/attach-ticket.dto';

const SOCKET_ID = ApiIdParam('udpSocket');

@ApiTags('UDP sockets')
@ApiKeyAuth()
@Controller('v1/udp/sockets')
export class UdpSocketAttachController {
  constructor(private readonly attach: AttachService) {}

  @Get(':id/attach')
  @SOCKET_ID
  @RouteConfig({ [ATTACH_ROUTE]: 'udp', [TICKET_AUTH]: true })
  @ApiOperation({
    summary: 'Attach a WebSocket to a UDP socket',
    description:
      'One message per datagram, both ways. A received datagram is one message in the layout of the binary datagram reads ' +
      '(`application/vnd.sockplane.datagrams`: a 24-byte header with seq, time, size and the sender, then the payload), after replaying the ' +
      'held datagrams from `fromSeq`. A datagram to send starts with a destination header: port (2 bytes, big-endian), address length ' +
      '(1 byte), the address as text; port 0 and no address send to the default peer (`connectTo`). UDP cannot push back: a datagram ' +
      'arriving while this WebSocket is congested is dropped for it and counted (channel 2 `dropped`). A plain GET answers 426.\n\n' +
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
  @Validated({ query: AttachUdpSocketQueryDto })
  // The query is read by `AttachService.admit`, which runs before this handler; here it documents the operation.
  attachUdpSocket(@Query() _query: AttachUdpSocketQueryDto, @Res({ passthrough: true }) reply: FastifyReply): never {
    throw upgradeRequired(reply);
  }

  @Post(':id/attach-tickets')
  @HttpCode(201)
  @SOCKET_ID
  @ApiOperation({
    summary: 'Get a ticket to attach to a UDP socket',
    description:
      'A one-time ticket for `GET …/attach?ticket=`, valid for 30 s and for this socket only: browsers cannot send `Authorization` ' +
      'on a WebSocket. The ticket acts for the key that asked for it; `write: true` lets it attach with `write=true`.',
  })
  @ApiBody({
    type: AttachTicketDto,
    examples: {
      read: { summary: 'To watch the socket', value: { write: false } },
      write: { summary: 'To watch it and send to the peer', value: { write: true } },
    },
  })
  @ApiResponse({ status: 201, type: AttachTicketResultDto, description: 'Issued' })
  @ApiProblems('VALIDATION_FAILED', 'MALFORMED_REQUEST', 'UNSUPPORTED_MEDIA_TYPE', 'SOCKET_NOT_FOUND')
  @Validated({ body: AttachTicketDto })
  createUdpSocketAttachTicket(@Param('id') id: string, @Body() body: AttachTicketDto, @Owner() caller: Caller): AttachTicketResultDto {
    return toAttachTicketDto(this.attach.issueTicket('udp', id, body, caller), `/v1/udp/sockets/${id}/attach`);
  }
}
