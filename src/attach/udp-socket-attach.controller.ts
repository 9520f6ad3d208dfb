import { Body, Controller, Get, Param, Post, Query, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { FastifyReply } from 'fastify';
import { Caller } from '../auth/caller';
import { Owner } from '../auth/owner.decorator';
import { ApiIdParam, ApiKeyAuth } from '../common/api-docs';
import { AttachRoute, AttachTicketRoute } from './attach-docs';
import { upgradeRequired } from './attach-routes';
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
  @AttachRoute('udp', AttachUdpSocketQueryDto, {
    summary: 'Attach a WebSocket to a UDP socket',
    description:
      'One message per datagram, both ways. A received datagram is one message in the layout of the binary datagram reads ' +
      '(`application/vnd.sockplane.datagrams`: a 24-byte header with seq, time, size and the sender, then the payload), after replaying the ' +
      'held datagrams from `fromSeq`. A datagram to send starts with a destination header: port (2 bytes, big-endian), address length ' +
      '(1 byte), the address as text; port 0 and no address send to the default peer (`connectTo`). UDP cannot push back: a datagram ' +
      'arriving while this WebSocket is congested is dropped for it and counted (channel 2 `dropped`). A plain GET answers 426.',
  })
  // The query is read by `AttachService.admit`, which runs before this handler; here it documents the operation.
  attachUdpSocket(@Query() _query: AttachUdpSocketQueryDto, @Res({ passthrough: true }) reply: FastifyReply): never {
    throw upgradeRequired(reply);
  }

  @Post(':id/attach-tickets')
  @SOCKET_ID
  @AttachTicketRoute('UDP socket')
  createUdpSocketAttachTicket(@Param('id') id: string, @Body() body: AttachTicketDto, @Owner() caller: Caller): AttachTicketResultDto {
    return toAttachTicketDto(this.attach.issueTicket('udp', id, body, caller), `/v1/udp/sockets/${id}/attach`);
  }
}
