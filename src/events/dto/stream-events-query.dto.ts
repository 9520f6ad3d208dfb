import { IsIntegerQuery, IsLabelSelector, IsOneOf, IsRepeatable, registerCheck, unsetFirst } from '../../common/validation';
import { PAYLOAD_ENCODINGS, PayloadEncoding } from '../../sockets/payload-codec';
import { SOCKET_EVENT_TYPES, SOCKET_KINDS, SocketKind } from '../../sockets/socket-events';
import { isEventTypePattern } from '../event-filter';

const EVENT_TYPE_PATTERN = registerCheck('event-type-pattern', isEventTypePattern);

export class StreamEventsQueryDto {
  @IsRepeatable(
    {
      description: 'Only events of these resources (listener tl_…, connection tc_…, UDP socket us_…: the `id` their create call answered); repeat for several',
      examples: unsetFirst('Every resource', { connection: { summary: 'A connection id (the shape; use one you have)', value: ['tc_000002f0e1d2c3b4'] } }),
    },
    { type: 'string', pattern: '^(tl|tc|us)_[0-9a-z]{1,40}$' },
    'resourceId must be a resource id (tl_…, tc_… or us_…)',
  )
  resourceId?: string[];

  @IsRepeatable(
    {
      description: 'Only events of these kinds of resource; repeat for several',
      examples: unsetFirst('Every kind', { connections: { summary: 'TCP connections', value: ['tcp-connection'] } }),
    },
    { type: 'string', enum: [...SOCKET_KINDS] },
    `kind must be one of ${SOCKET_KINDS.join(', ')}`,
  )
  kind?: SocketKind[];

  @IsRepeatable(
    {
      description: `Only these event types, exact or a family (\`connection.*\`); repeat for several. Types: ${SOCKET_EVENT_TYPES.join(', ')}`,
      examples: unsetFirst('Every type', { connections: { summary: 'Connection events and listeners bound', value: ['connection.*', 'listener.bound'] } }),
    },
    { type: 'string' },
    'type must be an event type (e.g. connection.data) or a family of them (listener.*, connection.*, udp.*)',
    EVENT_TYPE_PATTERN,
  )
  type?: string[];

  @IsLabelSelector()
  label?: string[];

  @IsOneOf(PAYLOAD_ENCODINGS, { description: 'Include the received bytes in data and datagram events, written in this encoding (without it, events carry only offsets and counts)', example: 'base64' })
  payload?: PayloadEncoding;

  @IsIntegerQuery({ min: 1, max: 1024 * 1024 * 1024, description: 'With `payload`: most bytes per event (capped by SOCKPLANE_EVENT_PAYLOAD_MAX_BYTES); longer payloads are cut and say `payloadTruncated`', example: 1024 })
  payloadMaxBytes?: number;

  @IsIntegerQuery({
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    description: 'Resume after this event id, like the `Last-Event-ID` header (which wins when both are sent); 0 replays all the history holds',
    examples: unsetFirst('From the next event', { replay: { summary: 'Replay all the history holds first', value: 0 } }),
  })
  lastEventId?: number;
}
