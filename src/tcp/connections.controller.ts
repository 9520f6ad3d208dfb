import { Body, Controller, Delete, Get, Header, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
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
import { DeleteConnectionQueryDto, ListConnectionsQueryDto } from './dto/list-queries.dto';
import { BufferReadDto, ReadBufferQueryDto, ReleaseBufferQueryDto, toBufferOctets, toBufferReadDto } from './dto/read-buffer.dto';
import { SendDataDto, SendQueryDto, SendResultDto } from './dto/send.dto';
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
      '`application/octet-stream`. `end` half-closes afterwards (FIN); the connection can still receive.',
    requestBody: {
      required: true,
      content: {
        'application/json': {
          schema: { $ref: getSchemaPath(SendDataDto) },
          examples: {
            text: { summary: 'Text', value: { data: 'Hello, server!', encoding: 'utf8' } },
            hex: { summary: 'Bytes in hex, then FIN', value: { data: '48656c6c6f0a', encoding: 'hex', end: true } },
          },
        },
        [OCTET_STREAM]: { schema: { type: 'string', format: 'binary' } },
      },
    },
  })
  @ApiResponse({ status: 200, type: SendResultDto, description: 'Sent' })
  @ApiProblems('VALIDATION_FAILED', 'MALFORMED_REQUEST', 'INVALID_PAYLOAD', 'SOCKET_NOT_FOUND', 'SOCKET_CLOSED', 'BODY_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'WRITE_BUFFER_FULL')
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
}
