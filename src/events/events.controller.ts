import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import { ApiExtraModels, ApiHeader, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { FastifyReply } from 'fastify';
import { Caller } from '../auth/caller';
import { Owner } from '../auth/owner.decorator';
import { ApiKeyAuth, ApiProblems } from '../common/api-docs';
import { SseReply } from '../common/sse-reply';
import { Validated } from '../common/route-validation';
import { unsetFirst } from '../common/validation';
import { EventDto, GapDto } from './dto/event.dto';
import { StreamEventsQueryDto } from './dto/stream-events-query.dto';
import { EventsService } from './events.service';

const EVENT_STREAM = 'text/event-stream';

const STREAM_FORMAT = [
  'A Server-Sent Events stream. Each event is a message with `id:` (increasing by one per event the service records), ',
  '`event:` (its type) and one `data:` line holding an EventDto as JSON. A `gap` message (no `id:`; data is a GapDto) says ',
  'events were lost: the resume point was older than the history, or this reader fell too far behind. ',
  'Lines starting with `:` are heartbeat comments.',
].join('');

const EXAMPLE = [
  'id: 7',
  'event: connection.accepted',
  'data: {"id":7,"type":"connection.accepted","resourceId":"tc_000002f0e1d2c3b4","kind":"tcp-connection","at":"2026-11-25T16:30:00.000Z","labels":{"demo":"tutorial"},"data":{"listenerId":"tl_000001a1b2c3d4e5","remoteAddress":"127.0.0.1","remotePort":50312}}',
  '',
  'id: 8',
  'event: connection.data',
  'data: {"id":8,"type":"connection.data","resourceId":"tc_000002f0e1d2c3b4","kind":"tcp-connection","at":"2026-11-25T16:30:00.004Z","labels":{"demo":"tutorial"},"data":{"from":0,"to":14,"byteCount":14},"payload":"Hello, server!","payloadEncoding":"utf8","payloadTruncated":false}',
  '',
  ': ping',
  '',
  'event: gap',
  'data: {"type":"gap","reason":"slow-consumer","skipped":120,"firstId":1001,"lastId":1240,"at":"2026-11-25T16:30:05.000Z"}',
  '',
  '',
].join('\n');

@ApiTags('Events')
@ApiKeyAuth()
@ApiExtraModels(EventDto, GapDto)
@Controller('v1/events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Get()
  @ApiOperation({
    summary: 'Stream socket events',
    description:
      'Everything the sockets do, live, as Server-Sent Events: listeners bound, closed and dropping connections; connections accepted, ' +
      'opened, receiving data, ended by the peer, paused and resumed at the buffer cap, closed (with the reason); UDP datagrams and drops. ' +
      'Filters combine (all must hold; a repeated parameter matches any of its values). Without `Last-Event-ID` the stream starts ' +
      'with the next event; with it, it first replays what the history (SOCKPLANE_EVENT_HISTORY) still holds after that id. A reader ' +
      'that falls behind is never waited for: up to SOCKPLANE_EVENT_QUEUE events wait for it, then a `gap` reports what it lost. ' +
      'Try it with `curl -N`; Swagger UI cannot show a stream that does not end.',
  })
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description: 'Resume after this event id (EventSource sends it when it reconnects)',
    examples: unsetFirst('From the next event', { resume: { summary: 'After event 41', value: '41' } }),
  })
  @ApiProduces(EVENT_STREAM)
  @ApiResponse({
    status: 200,
    description: STREAM_FORMAT,
    content: { [EVENT_STREAM]: { schema: { type: 'string', description: STREAM_FORMAT }, example: EXAMPLE } },
  })
  @ApiProblems('VALIDATION_FAILED', 'QUOTA_EXCEEDED', 'SHUTTING_DOWN')
  @Validated({ query: StreamEventsQueryDto })
  streamEvents(
    @Query() query: StreamEventsQueryDto,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Res() reply: FastifyReply,
    @Owner() caller: Caller,
  ): void {
    this.events.openStream(query, lastEventId, caller, new SseReply(reply));
  }
}
