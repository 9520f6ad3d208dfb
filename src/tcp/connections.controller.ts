import { Body, Controller, Delete, Get, Header, HttpCode, Param, Post, Put, Query, Res } from '@nestjs/common';
import { ApiBody, ApiExtraModels, ApiOperation, ApiResponse, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { FastifyReply } from 'fastify';
import { Caller } from '../auth/caller';
import { Owner } from '../auth/owner.decorator';
import { ClientGone } from '../common/abort-signal.decorator';
import { ApiIdParam, ApiKeyAuth, ApiProblems } from '../common/api-docs';
import { sendAnswer } from '../common/corked-reply';
import { AnswerForm, Negotiated } from '../common/negotiation';
import { OCTET_STREAM, RawBody } from '../common/raw-body';
import { DataCall } from '../logging/data-call.decorator';
import { Validated } from '../common/route-validation';
import { BufferStateDto, ConnectionDto, ConnectionPageDto } from './dto/connection.dto';
import { CreateConnectionDto } from './dto/create-connection.dto';
import { ConnectionFramingDto, FramingDto } from './dto/framing.dto';
import { DeleteConnectionQueryDto, ListConnectionsQueryDto } from './dto/list-queries.dto';
import { BufferReadDto, ReadBufferQueryDto, ReleaseBufferQueryDto, toBufferOctets, toBufferReadDto } from './dto/read-buffer.dto';
import { FrameReadDto, ReadFramesQueryDto, ReleaseFramesQueryDto, toConnectionFrames, toFrameReadDto } from './dto/read-frames.dto';
import { SendDataDto, SendQueryDto, SendResultDto } from './dto/send.dto';
import { FRAMING_EXAMPLES } from './framing-examples';
import { CONNECTION_FRAMES_TYPE, FRAME_LAYOUT_MARKDOWN } from './frame-frames';
import { TcpService } from './tcp.service';
import { StartTlsDto } from '../tls/dto/start-tls.dto';

const CONNECTION_ID = ApiIdParam('connection');

@ApiTags('TCP connections')
@ApiKeyAuth()
@ApiExtraModels(SendDataDto)
@Controller('v1/tcp/connections')
export class ConnectionsController {
  constructor(private readonly tcp: TcpService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Connect a TCP client',
    description:
      'Opens an outbound connection (socket → connect) and answers once it is established. Host names are resolved once and the ' +
      'resolved address is dialled. Received bytes are kept for reads (mode `buffer`). To talk to a listener of this service, ' +
      'put the `local.port` its creation answered. With `tls.mode: implicit` it answers once the TLS handshake succeeded and the server’s ' +
      'certificate was checked; a refusal names its reason (502 `TLS_CERT_UNTRUSTED`, `TLS_HOSTNAME_MISMATCH`, `TLS_HANDSHAKE_FAILED`).',
  })
  @ApiBody({
    type: CreateConnectionDto,
    examples: {
      tutorial: {
        summary: 'The tutorial’s client.py: connect to 127.0.0.1:65432 (open the listener example “tutorial” or run server.py first)',
        value: { host: '127.0.0.1', port: 65432, labels: { demo: 'tutorial' } },
      },
      tuned: {
        summary: 'With a short connect timeout, TCP_NODELAY and an idle timeout',
        value: { host: '127.0.0.1', port: 65432, connectTimeoutMs: 2000, noDelay: true, idleTimeoutMs: 60000 },
      },
      tls: {
        summary: 'A TLS client to 127.0.0.1:65443 trusting the instance CA (open the listener example “tlsEcho” first)',
        value: { host: '127.0.0.1', port: 65443, tls: { mode: 'implicit', ca: 'instance' }, labels: { demo: 'tls' } },
      },
      lines: {
        summary: 'Framed as lines: read them one by one at …/frames',
        value: { host: '127.0.0.1', port: 65432, framing: { type: 'lines' } },
      },
      lengthPrefixed: {
        summary: 'Framed by a 4-byte big-endian length prefix, stripped from each frame',
        value: { host: '127.0.0.1', port: 65432, framing: { type: 'u32be', maxFrameBytes: 65536 } },
      },
    },
  })
  @ApiResponse({ status: 201, type: ConnectionDto, description: 'Connected' })
  @ApiProblems(
    'VALIDATION_FAILED',
    'MALFORMED_REQUEST',
    'UNSUPPORTED_MEDIA_TYPE',
    'PERMISSION_DENIED',
    'POLICY_DENIED',
    'QUOTA_EXCEEDED',
    'CONNECTION_REFUSED',
    'HOST_UNREACHABLE',
    'NAME_NOT_RESOLVED',
    'NETWORK_ERROR',
    'TOO_MANY_OPEN_FILES',
    'CONNECT_TIMEOUT',
    'TLS_CERT_UNTRUSTED',
    'TLS_HOSTNAME_MISMATCH',
    'TLS_HANDSHAKE_FAILED',
    'CERTIFICATE_NOT_FOUND',
    'CERTIFICATE_INVALID',
  )
  @Validated({ body: CreateConnectionDto })
  createConnection(@Body() body: CreateConnectionDto, @Owner() caller: Caller): Promise<ConnectionDto> {
    return this.tcp.createConnection(body, caller);
  }

  @Get()
  @ApiOperation({ summary: 'List TCP connections', description: 'Inbound and outbound, oldest first, filtered by listener, direction, state and labels.' })
  @ApiResponse({ status: 200, type: ConnectionPageDto })
  @ApiProblems('VALIDATION_FAILED', 'INVALID_CURSOR')
  @Validated({ query: ListConnectionsQueryDto })
  listConnections(@Query() query: ListConnectionsQueryDto, @Owner() caller: Caller): ConnectionPageDto {
    return this.tcp.listConnections(query, caller);
  }

  @Get(':id')
  @CONNECTION_ID
  @ApiOperation({ summary: 'Get a TCP connection', description: 'State, addresses, counters, buffer offsets and, once closed, why.' })
  @ApiResponse({ status: 200, type: ConnectionDto })
  @ApiProblems('SOCKET_NOT_FOUND')
  getConnection(@Param('id') id: string, @Owner() caller: Caller): ConnectionDto {
    return this.tcp.getConnection(id, caller);
  }

  @Delete(':id')
  @HttpCode(200)
  @CONNECTION_ID
  @ApiOperation({
    summary: 'Close a TCP connection',
    description: 'Graceful by default: sends FIN and waits briefly for the peer’s. `mode=reset` aborts with RST. Forgets the connection; answers with its last state.',
  })
  @ApiResponse({ status: 200, type: ConnectionDto, description: 'Closed' })
  @ApiProblems('SOCKET_NOT_FOUND', 'VALIDATION_FAILED')
  @Validated({ query: DeleteConnectionQueryDto })
  deleteConnection(@Param('id') id: string, @Query() query: DeleteConnectionQueryDto, @Owner() caller: Caller): Promise<ConnectionDto> {
    return this.tcp.deleteConnection(id, query.mode, caller);
  }

  @Post(':id/tls')
  @HttpCode(200)
  @CONNECTION_ID
  @ApiOperation({
    summary: 'Start TLS on an open connection (STARTTLS)',
    description:
      'Upgrades the connection in place, as SMTP, IMAP, POP3, XMPP, LDAP and Postgres do, taking the `server` or `client` side of the handshake. ' +
      'Bytes received from `inOffset` on (a ClientHello that came before this call) are handed to TLS; the byte log keeps the clear text before it ' +
      'and the decrypted bytes after, and `tls.startOffsets` records where TLS started. Answers once the handshake ended: with the connection, ' +
      'or a 502 naming the reason, the connection then closed. Only `buffer` connections that are open both ways can start TLS (409 otherwise).',
  })
  @ApiBody({
    type: StartTlsDto,
    examples: {
      server: { summary: 'The server side, after answering STARTTLS with `220 ready` (leaves minted per SNI name)', value: { role: 'server' } },
      client: { summary: 'The client side, trusting the instance CA', value: { role: 'client', ca: 'instance' } },
    },
  })
  @ApiResponse({ status: 200, type: ConnectionDto, description: 'TLS established' })
  @ApiProblems(
    'VALIDATION_FAILED',
    'SOCKET_NOT_FOUND',
    'TLS_UPGRADE_REFUSED',
    'CERTIFICATE_NOT_FOUND',
    'CERTIFICATE_INVALID',
    'TLS_CERT_UNTRUSTED',
    'TLS_HOSTNAME_MISMATCH',
    'TLS_HANDSHAKE_FAILED',
  )
  @Validated({ body: StartTlsDto })
  startTls(@Param('id') id: string, @Body() body: StartTlsDto, @Owner() caller: Caller): Promise<ConnectionDto> {
    return this.tcp.startTls(id, body, caller);
  }

  @Post(':id/send')
  @DataCall()
  @HttpCode(200)
  @CONNECTION_ID
  @ApiOperation({
    summary: 'Send bytes',
    description:
      'Answers once every byte was handed to the kernel (sendall). Send JSON `{data, encoding}` or the raw bytes as ' +
      '`application/octet-stream`. `end` half-closes afterwards (FIN); the connection can still receive. ' +
      'With `frame: true`, `data` goes as one frame of the connection’s framing (its delimiter or length prefix added); ' +
      '`frames` sends several frames in one write. A connection without framing answers those 409 NO_FRAMING.',
    requestBody: {
      required: true,
      content: {
        'application/json': {
          schema: { $ref: getSchemaPath(SendDataDto) },
          examples: {
            text: { summary: 'Text', value: { data: 'Hello, server!', encoding: 'utf8' } },
            hex: { summary: 'Bytes in hex, then FIN', value: { data: '48656c6c6f0a', encoding: 'hex', end: true } },
            frame: { summary: 'One frame: the connection’s framing adds the delimiter or length prefix', value: { data: 'PING', frame: true } },
            frames: { summary: 'Several frames in one write', value: { frames: [{ data: 'PING' }, { data: '00ff', encoding: 'hex' }] } },
          },
        },
        [OCTET_STREAM]: { schema: { type: 'string', format: 'binary' } },
      },
    },
  })
  @ApiResponse({ status: 200, type: SendResultDto, description: 'Sent' })
  @ApiProblems('VALIDATION_FAILED', 'MALFORMED_REQUEST', 'INVALID_PAYLOAD', 'SOCKET_NOT_FOUND', 'SOCKET_CLOSED', 'NO_FRAMING', 'BODY_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'WRITE_BUFFER_FULL')
  @Validated({ query: SendQueryDto, body: SendDataDto, rawBody: true })
  sendData(
    @Param('id') id: string,
    @Body() body: SendDataDto | RawBody,
    @Query() query: SendQueryDto,
    @Owner() caller: Caller,
  ): Promise<SendResultDto> {
    return this.tcp.send(id, body, query.end ?? false, caller);
  }

  @Get(':id/buffer')
  @DataCall()
  // The answer's form follows Accept: a cache must key on it.
  @Header('Vary', 'Accept')
  @CONNECTION_ID
  @ApiOperation({
    summary: 'Read received bytes',
    description:
      'Returns bytes from offset `from` without consuming them (a retried read returns the same bytes) and the `nextOffset` to ask next. ' +
      'With `waitMs` it holds until `minBytes` (or the `until` delimiter) arrived, the peer ended, or time ran out. ' +
      'With `Accept: application/octet-stream` the body is the raw bytes and the offsets come in Sockplane-* headers; ' +
      'an Accept that takes neither JSON nor octet-stream (`q=0` refuses a type) answers 406.',
  })
  @ApiResponse({
    status: 200,
    description: 'The bytes',
    content: {
      'application/json': { schema: { $ref: getSchemaPath(BufferReadDto) } },
      [OCTET_STREAM]: { schema: { type: 'string', format: 'binary' } },
    },
    headers: {
      'Sockplane-From': { description: 'Offset of the first byte (octet-stream answers)', schema: { type: 'integer' } },
      'Sockplane-Next-Offset': { description: 'Offset to read from next', schema: { type: 'integer' } },
      'Sockplane-Oldest-Offset': { description: 'Oldest offset still held', schema: { type: 'integer' } },
      'Sockplane-End-Offset': { description: 'Offset the next received byte will get', schema: { type: 'integer' } },
      'Sockplane-Eof': { description: '`true` when the peer ended and every byte was returned', schema: { type: 'boolean' } },
    },
  })
  @ApiExtraModels(BufferReadDto)
  @ApiProblems('VALIDATION_FAILED', 'INVALID_PAYLOAD', 'SOCKET_NOT_FOUND', 'NOT_ACCEPTABLE', 'OFFSET_RELEASED', 'OFFSET_OUT_OF_RANGE', 'QUOTA_EXCEEDED')
  @Validated({ query: ReadBufferQueryDto })
  async readBuffer(
    @Param('id') id: string,
    @Query() query: ReadBufferQueryDto,
    @Negotiated(OCTET_STREAM) form: AnswerForm,
    // Not passthrough: the octet-stream answer is written here, and Nest must not send after it.
    @Res() reply: FastifyReply,
    @ClientGone() signal: AbortSignal,
    @Owner() caller: Caller,
  ): Promise<void> {
    const result = await this.tcp.read(id, query, signal, caller);
    sendAnswer(reply, form === 'json' ? toBufferReadDto(id, result, query.encoding) : toBufferOctets(result));
  }

  @Delete(':id/buffer')
  @DataCall()
  @HttpCode(200)
  @CONNECTION_ID
  @ApiOperation({
    summary: 'Release read bytes',
    description: 'Frees every received byte below `upTo` (usually the last read’s `nextOffset`). If reading was paused at the buffer cap, it resumes.',
  })
  @ApiResponse({ status: 200, type: BufferStateDto, description: 'The buffer after the release' })
  @ApiProblems('VALIDATION_FAILED', 'SOCKET_NOT_FOUND', 'OFFSET_OUT_OF_RANGE')
  @Validated({ query: ReleaseBufferQueryDto })
  releaseBuffer(@Param('id') id: string, @Query() query: ReleaseBufferQueryDto, @Owner() caller: Caller): BufferStateDto {
    return this.tcp.release(id, query.upTo, caller);
  }

  @Put(':id/framing')
  @HttpCode(200)
  @CONNECTION_ID
  @ApiOperation({
    summary: 'Change how received bytes are framed',
    description:
      'Sets the framing of an open connection. The bytes held after the last frame (a frame in progress, or everything held when framing starts) ' +
      'are framed at once; frames found so far stay readable with their indexes. `none` stops framing. A new framing clears a framing error.',
  })
  @ApiBody({ type: FramingDto, examples: FRAMING_EXAMPLES })
  @ApiResponse({ status: 200, type: ConnectionFramingDto, description: 'The framing in force and the frames’ counters' })
  @ApiProblems('VALIDATION_FAILED', 'MALFORMED_REQUEST', 'UNSUPPORTED_MEDIA_TYPE', 'SOCKET_NOT_FOUND')
  @Validated({ body: FramingDto })
  setFraming(@Param('id') id: string, @Body() body: FramingDto, @Owner() caller: Caller): ConnectionFramingDto {
    return this.tcp.setFraming(id, body, caller);
  }

  @Get(':id/frames')
  @DataCall()
  // The answer's form follows Accept: a cache must key on it.
  @Header('Vary', 'Accept')
  @CONNECTION_ID
  @ApiOperation({
    summary: 'Read received frames',
    description:
      'Returns frames from index `from` without consuming them (a retried read returns the same ones), each with its byte range in the byte log, ' +
      'and the `nextIndex` to ask next. With `waitMs` it holds until `minFrames` frames arrived, the peer ended, framing stopped, or time ran out. ' +
      `With \`Accept: ${CONNECTION_FRAMES_TYPE}\` the body is the frames in binary (raw data, so \`encoding\` does not apply) ` +
      'and the indexes come in Sockplane-* headers; an Accept that takes neither JSON nor frames (`q=0` refuses a type) answers 406.',
  })
  @ApiResponse({
    status: 200,
    description:
      `The frames, oldest first. As \`${CONNECTION_FRAMES_TYPE}\`: one record per frame, back to back, integers unsigned in network ` +
      `byte order (big-endian); an empty body when there are none. The Sockplane-* headers come with binary answers only.\n\n${FRAME_LAYOUT_MARKDOWN}`,
    content: {
      'application/json': { schema: { $ref: getSchemaPath(FrameReadDto) } },
      [CONNECTION_FRAMES_TYPE]: { schema: { type: 'string', format: 'binary' } },
    },
    headers: {
      'Sockplane-From': { description: 'Index of the first frame', schema: { type: 'integer' } },
      'Sockplane-Next-Index': { description: 'Index to read from next', schema: { type: 'integer' } },
      'Sockplane-Count': { description: 'Frames in the body', schema: { type: 'integer' } },
      'Sockplane-Oldest-Index': { description: 'Oldest index still held', schema: { type: 'integer' } },
      'Sockplane-End-Index': { description: 'Index the next frame will get', schema: { type: 'integer' } },
      'Sockplane-Eof': { description: '`true` when no more frames will come and every frame was returned', schema: { type: 'boolean' } },
    },
  })
  @ApiExtraModels(FrameReadDto)
  @ApiProblems('VALIDATION_FAILED', 'SOCKET_NOT_FOUND', 'NOT_ACCEPTABLE', 'OFFSET_RELEASED', 'OFFSET_OUT_OF_RANGE', 'QUOTA_EXCEEDED')
  @Validated({ query: ReadFramesQueryDto })
  async readFrames(
    @Param('id') id: string,
    @Query() query: ReadFramesQueryDto,
    @Negotiated(CONNECTION_FRAMES_TYPE) form: AnswerForm,
    // Not passthrough: the binary answer is written here, and Nest must not send after it.
    @Res() reply: FastifyReply,
    @ClientGone() signal: AbortSignal,
    @Owner() caller: Caller,
  ): Promise<void> {
    const result = await this.tcp.readFrames(id, query, signal, caller);
    sendAnswer(reply, form === 'json' ? toFrameReadDto(id, result, query.encoding) : toConnectionFrames(result));
  }

  @Delete(':id/frames')
  @DataCall()
  @HttpCode(200)
  @CONNECTION_ID
  @ApiOperation({
    summary: 'Release read frames',
    description: 'Frees every frame below `upTo` (usually the last read’s `nextIndex`) and the bytes they lie in. If reading was paused at the buffer cap, it resumes.',
  })
  @ApiResponse({ status: 200, type: ConnectionFramingDto, description: 'The framing after the release' })
  @ApiProblems('VALIDATION_FAILED', 'SOCKET_NOT_FOUND', 'OFFSET_OUT_OF_RANGE')
  @Validated({ query: ReleaseFramesQueryDto })
  releaseFrames(@Param('id') id: string, @Query() query: ReleaseFramesQueryDto, @Owner() caller: Caller): ConnectionFramingDto {
    return this.tcp.releaseFrames(id, query.upTo, caller);
  }
}
