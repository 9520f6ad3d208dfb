import { HttpCode, applyDecorators } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiBody, ApiHeader, ApiOperation, ApiResponse } from '@nestjs/swagger';
import { TICKET_AUTH } from '../auth/api-key.hook';
import { ApiProblems } from '../common/api-docs';
import { Validated } from '../common/route-validation';
import { DtoClass } from '../common/validation';
import { ATTACH_PROTOCOLS, CHANNEL, CLOSE_CODE } from './attach-protocol';
import { ATTACH_ROUTE } from './attach-routes';
import { AttachTarget } from './attach.service';
import { AttachTicketDto, AttachTicketResultDto } from './dto/attach-ticket.dto';

/** The WebSocket side of an attach route, for its OpenAPI description; kept beside the constants it names. */
export const ATTACH_PROTOCOL_MARKDOWN = [
  'Upgrade this GET to a WebSocket (`Connection: Upgrade`, `Upgrade: websocket`; permessage-deflate is off). Subprotocols (`Sec-WebSocket-Protocol`):',
  '',
  '- `sockplane.raw.v1` (also when none is offered): each binary message is bytes, to the peer and from it.',
  `- \`sockplane.channel.v1\`: the first byte of each message names its channel: ${CHANNEL.TO_PEER} bytes to the peer, ${CHANNEL.FROM_PEER} bytes from the peer, ` +
    `${CHANNEL.CONTROL} a JSON notice from the service (\`attached\`, \`live\`, \`peer-ended\`, \`tls-established\`, \`closed\`, \`dropped\`), ` +
    `${CHANNEL.HALF_CLOSE} half-close (send FIN after everything before it).`,
  '',
  `Close codes: the client closes with ${CLOSE_CODE.NORMAL} to detach, ${CLOSE_CODE.CLOSE_SOCKET} to detach and close the socket gracefully, ` +
    `${CLOSE_CODE.RESET_SOCKET} to detach and reset it. The service closes with ${CLOSE_CODE.SOCKET_CLOSED} when the socket closed (the reason says why), ` +
    `${CLOSE_CODE.PEER_ENDED} when the peer ended a read-only raw attachment, ${CLOSE_CODE.UNSUPPORTED} for a message it does not take, ` +
    `${CLOSE_CODE.SEND_FAILED} when a send failed, ${CLOSE_CODE.GOING_AWAY} on shutdown.`,
  '',
  'Every refusal is answered before the upgrade, as problem+json. Browsers cannot set `Authorization` on a WebSocket: they pass `?ticket=` ' +
    'from `POST …/attach-tickets`. A page from another origin is refused unless SOCKPLANE_CORS_ORIGINS lists it. See docs/attach.md.',
].join('\n');

/**
 * An attach route: a GET that the upgrade hooks pick up by its route config, with its query
 * validated and its documentation (the upgrade's request headers, the 101 answer, every refusal).
 */
export function AttachRoute(target: AttachTarget, query: DtoClass, operation: { summary: string; description: string }): MethodDecorator {
  return applyDecorators(
    RouteConfig({ [ATTACH_ROUTE]: target, [TICKET_AUTH]: true }),
    ApiOperation({ summary: operation.summary, description: `${operation.description}\n\n${ATTACH_PROTOCOL_MARKDOWN}` }),
    ApiHeader({ name: 'Upgrade', required: false, description: '`websocket`: every answer but a refusal is the 101 switch', schema: { type: 'string', enum: ['websocket'] }, example: 'websocket' }),
    ApiHeader({
      name: 'Sec-WebSocket-Protocol',
      required: false,
      description: 'The subprotocols the client speaks, most wanted first; the service answers with the first it speaks',
      schema: { type: 'string', enum: [...ATTACH_PROTOCOLS] },
      example: 'sockplane.channel.v1',
    }),
    ApiResponse({ status: 101, description: 'Switching Protocols: the WebSocket is attached (`Sec-WebSocket-Protocol` names the subprotocol)' }),
    ApiProblems('VALIDATION_FAILED', 'UNAUTHORIZED', 'TICKET_INVALID', 'CROSS_ORIGIN_DENIED', 'SOCKET_NOT_FOUND', 'SOCKET_CLOSED', 'WRITER_ATTACHED', 'UPGRADE_REQUIRED'),
    Validated({ query }),
  );
}

/** The ticket operation of an attach route, for a `socket` (“TCP connection”, “UDP socket”). */
export function AttachTicketRoute(socket: string): MethodDecorator {
  return applyDecorators(
    HttpCode(201),
    ApiOperation({
      summary: `Get a ticket to attach to a ${socket}`,
      description:
        `A one-time ticket for \`GET …/attach?ticket=\`, valid for 30 s and for this ${socket} only: browsers cannot send \`Authorization\` ` +
        'on a WebSocket. The ticket acts for the key that asked for it; `write: true` lets it attach with `write=true`.',
    }),
    ApiBody({
      type: AttachTicketDto,
      examples: {
        read: { summary: `To watch the ${socket}`, value: { write: false } },
        write: { summary: 'To watch it and send to the peer', value: { write: true } },
      },
    }),
    ApiResponse({ status: 201, type: AttachTicketResultDto, description: 'Issued' }),
    ApiProblems('VALIDATION_FAILED', 'MALFORMED_REQUEST', 'UNSUPPORTED_MEDIA_TYPE', 'SOCKET_NOT_FOUND', 'QUOTA_EXCEEDED'),
    Validated({ body: AttachTicketDto }),
  );
}
