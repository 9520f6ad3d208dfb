import { ApiProperty, ApiPropertyOptional, SchemaObject } from '@nestjs/swagger';
import { PAYLOAD_ENCODINGS, PayloadEncoding, encodePayload } from '../../sockets/payload-codec';
import { EventField, EventFieldSchema, SOCKET_EVENTS, SOCKET_EVENT_TYPES, SOCKET_KINDS, SocketEventData, SocketEventType, SocketKind } from '../../sockets/socket-events';
import { EventRecord } from '../event-history';

function fieldSchema({ type, description, nullable, enum: values }: EventFieldSchema): SchemaObject {
  return { type, description, ...(nullable ? { nullable } : {}), ...(values ? { enum: [...values] } : {}) };
}

/** One schema per event type, built from the runtime's own table of events: the document shows what the runtime sends. */
const EVENT_DATA_SCHEMAS: SchemaObject[] = SOCKET_EVENT_TYPES.map((type) => {
  const { description, data } = SOCKET_EVENTS[type];
  const fields = Object.entries(data as Record<string, EventField<unknown>>);
  return {
    type: 'object',
    title: type,
    description: `\`${type}\`: ${description}`,
    required: fields.map(([name]) => name),
    properties: Object.fromEntries(fields.map(([name, field]) => [name, fieldSchema(field.schema)])),
  };
});

/** How a stream wants the bytes behind data events written. */
export interface PayloadOptions {
  encoding: PayloadEncoding;
  maxBytes: number;
}

/** The `data:` of every SSE message except `gap`. */
export class EventDto {
  @ApiProperty({ description: 'Increases by one with every event the service records (also the SSE `id:`); resume after it with `Last-Event-ID`', example: 42 })
  id!: number;

  @ApiProperty({ enum: SOCKET_EVENT_TYPES, description: 'What happened (also the SSE `event:`)', example: 'connection.data' })
  type!: SocketEventType;

  @ApiProperty({ description: 'The listener, connection or UDP socket it happened to', example: 'tc_000002f0e1d2c3b4' })
  resourceId!: string;

  @ApiProperty({ enum: SOCKET_KINDS, example: 'tcp-connection' })
  kind!: SocketKind;

  @ApiProperty({ format: 'date-time', example: '2026-11-25T16:30:00.000Z' })
  at!: string;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, description: 'The resource’s labels (accepted connections carry their listener’s)', example: { demo: 'tutorial' } })
  labels!: Record<string, string>;

  @ApiProperty({
    anyOf: EVENT_DATA_SCHEMAS,
    description: 'What the runtime reports; its fields depend on `type` (each schema is titled with the type it belongs to)',
    example: { from: 0, to: 14, byteCount: 14 },
  })
  data!: SocketEventData;

  @ApiPropertyOptional({ description: 'With `payload=`: the received bytes (data and datagram events), at most `payloadMaxBytes` of them', example: 'Hello, server!' })
  payload?: string;

  @ApiPropertyOptional({ enum: PAYLOAD_ENCODINGS, example: 'utf8' })
  payloadEncoding?: PayloadEncoding;

  @ApiPropertyOptional({
    description: 'The payload holds fewer bytes than were received: cut at `payloadMaxBytes`, or no longer held by the history (SOCKPLANE_EVENT_HISTORY_PAYLOAD_BYTES)',
    example: false,
  })
  payloadTruncated?: boolean;
}

export const GAP_REASONS = ['history', 'slow-consumer', 'unknown-id'] as const;
export type GapReason = (typeof GAP_REASONS)[number];

/** The `data:` of a `gap` message: events this stream will not deliver. */
export class GapDto {
  @ApiProperty({ enum: ['gap'], example: 'gap' })
  type!: 'gap';

  @ApiProperty({
    enum: GAP_REASONS,
    description:
      '`history`: the resume point is older than the history holds. `slow-consumer`: this stream read slower than events happened and its queue ' +
      '(SOCKPLANE_EVENT_QUEUE) overflowed; a new stream with `Last-Event-ID` = firstId − 1 replays them while the history holds them (and the ' +
      'events after them again: their ids tell which were seen). ' +
      '`unknown-id`: the resume id is newer than any event (the service restarted); the stream replays all it holds.',
    example: 'slow-consumer',
  })
  reason!: GapReason;

  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'How many events were lost: for `slow-consumer`, events that matched this stream’s filters; for `history`, every event in firstId…lastId, of any resource',
    example: 120,
  })
  skipped!: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'Id of the first event lost', example: 1001 })
  firstId!: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'Id of the last event lost', example: 1240 })
  lastId!: number | null;

  @ApiProperty({ format: 'date-time', example: '2026-11-25T16:30:00.000Z' })
  at!: string;
}

/** The event as a stream sends it; with `options`, the payload bytes the record holds (none when it holds none any more). */
export function toEventDto(record: EventRecord, options: PayloadOptions | null): EventDto {
  const { event, payload } = record;
  const dto: EventDto = {
    id: record.id,
    type: event.type,
    resourceId: event.resourceId,
    kind: event.kind,
    at: event.at.toISOString(),
    labels: event.labels,
    data: event.data,
  };
  if (options && record.payloadLength !== null) {
    const bytes = (payload ?? Buffer.alloc(0)).subarray(0, options.maxBytes);
    dto.payload = encodePayload(bytes, options.encoding);
    dto.payloadEncoding = options.encoding;
    dto.payloadTruncated = bytes.length < record.payloadLength;
  }
  return dto;
}

export function toGapDto(reason: GapReason, range: { firstId: number; lastId: number; skipped: number } | null): GapDto {
  return { type: 'gap', reason, skipped: range?.skipped ?? null, firstId: range?.firstId ?? null, lastId: range?.lastId ?? null, at: new Date().toISOString() };
}
