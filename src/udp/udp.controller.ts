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
import { DATAGRAM_FRAMES_TYPE, FRAME_LAYOUT_MARKDOWN } from './datagram-frames';
import { CreateUdpSocketDto } from './dto/create-udp-socket.dto';
import { ListUdpSocketsQueryDto } from './dto/list-udp-sockets.dto';
import { DatagramReadDto, ReadDatagramsQueryDto, ReleaseDatagramsQueryDto, toDatagramFrames, toDatagramReadDto } from './dto/read-datagrams.dto';
import { SendDatagramDto, SendDatagramQueryDto, SendDatagramResultDto } from './dto/send-datagram.dto';
import { DatagramBufferStateDto, UdpSocketDto, UdpSocketPageDto } from './dto/udp-socket.dto';
import { UdpService } from './udp.service';

const SOCKET_ID = ApiIdParam('udpSocket');

@ApiTags('UDP sockets')
@ApiKeyAuth()
@ApiExtraModels(SendDatagramDto)
@Controller('v1/udp/sockets')
export class UdpSocketsController {
  constructor(private readonly udp: UdpService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Open a UDP socket',
    description:
      'Creates and binds a socket (socket → bind), applies its options and, with `connectTo`, connects it to a default peer. ' +
      'Port 0 takes a free port; the answer shows the real one. In `echo` mode it is the tutorial’s udp_server.py.',
  })
  @ApiBody({
    type: CreateUdpSocketDto,
    examples: {
      echo: { summary: 'Echo server on a free port', value: { type: 'udp4', host: '127.0.0.1', port: 0, mode: 'echo', labels: { demo: 'tutorial' } } },
      client: { summary: 'A client on a free port, keeping what it receives', value: { type: 'udp4', labels: { demo: 'tutorial' } } },
      peer: { summary: 'Connected to a default peer (the tutorial’s udp_server.py port)', value: { connectTo: { host: '127.0.0.1', port: 65433 } } },
    },
  })
  @ApiResponse({ status: 201, type: UdpSocketDto, description: 'Bound' })
  @ApiProblems(
    'VALIDATION_FAILED',
    'MALFORMED_REQUEST',
    'UNSUPPORTED_MEDIA_TYPE',
    'ADDRESS_NOT_AVAILABLE',
    'INVALID_DESTINATION',
    'PERMISSION_DENIED',
    'POLICY_DENIED',
    'ADDRESS_IN_USE',
    'QUOTA_EXCEEDED',
    'HOST_UNREACHABLE',
    'NAME_NOT_RESOLVED',
    'NETWORK_ERROR',
    'TOO_MANY_OPEN_FILES',
    'NAME_IN_USE',
  )
  @Validated({ body: CreateUdpSocketDto })
  createUdpSocket(@Body() body: CreateUdpSocketDto, @Owner() caller: Caller): Promise<UdpSocketDto> {
    return this.udp.createSocket(body, caller);
  }

  @Get()
  @ApiOperation({ summary: 'List UDP sockets', description: 'Oldest first, filtered by state and labels, a page at a time.' })
  @ApiResponse({ status: 200, type: UdpSocketPageDto })
  @ApiProblems('VALIDATION_FAILED', 'INVALID_CURSOR')
  @Validated({ query: ListUdpSocketsQueryDto })
  listUdpSockets(@Query() query: ListUdpSocketsQueryDto, @Owner() caller: Caller): UdpSocketPageDto {
    return this.udp.listSockets(query, caller);
  }

  @Get(':id')
  @SOCKET_ID
  @ApiOperation({ summary: 'Get a UDP socket', description: 'Its bound address, default peer, options in force, counters (dropped included) and held datagrams.' })
  @ApiResponse({ status: 200, type: UdpSocketDto })
  @ApiProblems('SOCKET_NOT_FOUND')
  getUdpSocket(@Param('id') id: string, @Owner() caller: Caller): UdpSocketDto {
    return this.udp.getSocket(id, caller);
  }

  @Delete(':id')
  @HttpCode(200)
  @SOCKET_ID
  @ApiOperation({ summary: 'Close a UDP socket', description: 'Closes the socket, answers pending reads, and forgets it. Answers with its last state.' })
  @ApiResponse({ status: 200, type: UdpSocketDto, description: 'Closed' })
  @ApiProblems('SOCKET_NOT_FOUND')
  deleteUdpSocket(@Param('id') id: string, @Owner() caller: Caller): Promise<UdpSocketDto> {
    return this.udp.deleteSocket(id, caller);
  }

  @Post(':id/send')
  @DataCall()
  @HttpCode(200)
  @SOCKET_ID
  @ApiOperation({
    summary: 'Send a datagram',
    description:
      'Sends one datagram (sendto) and answers once dgram reports it handed to the kernel. Send JSON `{host, port, data, encoding}`, ' +
      'or the raw payload as `application/octet-stream` with `host` and `port` in the query. A connected socket may omit the destination. ' +
      'A payload larger than UDP allows (65,507 bytes over IPv4, 65,527 over IPv6) is refused, never truncated.',
    requestBody: {
      required: true,
      content: {
        'application/json': {
          schema: { $ref: getSchemaPath(SendDatagramDto) },
          examples: {
            text: { summary: 'Text to a destination', value: { host: '127.0.0.1', port: 65433, data: 'ping' } },
            peer: { summary: 'Bytes in hex to the default peer', value: { data: '70696e67', encoding: 'hex' } },
          },
        },
        [OCTET_STREAM]: { schema: { type: 'string', format: 'binary' } },
      },
    },
  })
  @ApiResponse({ status: 200, type: SendDatagramResultDto, description: 'Sent' })
  @ApiProblems(
    'VALIDATION_FAILED',
    'MALFORMED_REQUEST',
    'INVALID_PAYLOAD',
    'INVALID_DESTINATION',
    'PERMISSION_DENIED',
    'POLICY_DENIED',
    'SOCKET_NOT_FOUND',
    'SOCKET_CLOSED',
    'BODY_TOO_LARGE',
    'DATAGRAM_TOO_LARGE',
    'UNSUPPORTED_MEDIA_TYPE',
    'CONNECTION_REFUSED',
    'HOST_UNREACHABLE',
    'NAME_NOT_RESOLVED',
    'NETWORK_ERROR',
  )
  @Validated({ query: SendDatagramQueryDto, body: SendDatagramDto, rawBody: true })
  sendDatagram(
    @Param('id') id: string,
    @Body() body: SendDatagramDto | RawBody,
    @Query() query: SendDatagramQueryDto,
    @Owner() caller: Caller,
  ): Promise<SendDatagramResultDto> {
    return this.udp.send(id, body, query, caller);
  }

  @Get(':id/datagrams')
  @DataCall()
  // The answer's form follows Accept: a cache must key on it.
  @Header('Vary', 'Accept')
  @SOCKET_ID
  @ApiOperation({
    summary: 'Read received datagrams',
    description:
      'Returns held datagrams from sequence number `from` without consuming them (a retried read returns the same ones), each with its sender, ' +
      'and the `nextSeq` to ask next. With `waitMs` it holds until a datagram at or after `from` arrived or time ran out. ' +
      '`dropped` counts datagrams refused because the socket held its cap. ' +
      `With \`Accept: ${DATAGRAM_FRAMES_TYPE}\` the body is the datagrams as binary frames (raw payloads, so \`encoding\` does not apply) ` +
      'and the sequence numbers come in Sockplane-* headers; an Accept that takes neither JSON nor frames (`q=0` refuses a type) answers 406.',
  })
  @ApiResponse({
    status: 200,
    description:
      `The datagrams, oldest first. As \`${DATAGRAM_FRAMES_TYPE}\`: one frame per datagram, back to back, integers unsigned in network ` +
      `byte order (big-endian); an empty body when there are none. The Sockplane-* headers come with frame answers only.\n\n${FRAME_LAYOUT_MARKDOWN}`,
    content: {
      'application/json': { schema: { $ref: getSchemaPath(DatagramReadDto) } },
      [DATAGRAM_FRAMES_TYPE]: { schema: { type: 'string', format: 'binary' } },
    },
    headers: {
      'Sockplane-From': { description: 'Sequence number of the first datagram', schema: { type: 'integer' } },
      'Sockplane-Next-Seq': { description: 'Sequence number to read from next', schema: { type: 'integer' } },
      'Sockplane-Count': { description: 'Datagrams (frames) in the body', schema: { type: 'integer' } },
      'Sockplane-Oldest-Seq': { description: 'Oldest sequence number still held', schema: { type: 'integer' } },
      'Sockplane-End-Seq': { description: 'Sequence number the next kept datagram will get', schema: { type: 'integer' } },
      'Sockplane-Dropped': { description: 'Datagrams dropped so far because the socket held its cap', schema: { type: 'integer' } },
    },
  })
  @ApiExtraModels(DatagramReadDto)
  @ApiProblems('VALIDATION_FAILED', 'SOCKET_NOT_FOUND', 'NOT_ACCEPTABLE', 'OFFSET_RELEASED', 'OFFSET_OUT_OF_RANGE', 'QUOTA_EXCEEDED')
  @Validated({ query: ReadDatagramsQueryDto })
  async readDatagrams(
    @Param('id') id: string,
    @Query() query: ReadDatagramsQueryDto,
    @Negotiated(DATAGRAM_FRAMES_TYPE) form: AnswerForm,
    // Not passthrough: the frames answer is written here, and Nest must not send after it.
    @Res() reply: FastifyReply,
    @ClientGone() signal: AbortSignal,
    @Owner() caller: Caller,
  ): Promise<void> {
    const result = await this.udp.read(id, query, signal, caller);
    sendAnswer(reply, form === 'json' ? toDatagramReadDto(id, result, query.encoding) : toDatagramFrames(result));
  }

  @Delete(':id/datagrams')
  @DataCall()
  @HttpCode(200)
  @SOCKET_ID
  @ApiOperation({
    summary: 'Release read datagrams',
    description: 'Frees every held datagram below `upTo` (usually the last read’s `nextSeq`), making room under the caps.',
  })
  @ApiResponse({ status: 200, type: DatagramBufferStateDto, description: 'The held datagrams after the release' })
  @ApiProblems('VALIDATION_FAILED', 'SOCKET_NOT_FOUND', 'OFFSET_OUT_OF_RANGE')
  @Validated({ query: ReleaseDatagramsQueryDto })
  releaseDatagrams(@Param('id') id: string, @Query() query: ReleaseDatagramsQueryDto, @Owner() caller: Caller): DatagramBufferStateDto {
    return this.udp.release(id, query.upTo, caller);
  }
}
