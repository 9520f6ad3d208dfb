import { Injectable } from '@nestjs/common';
import { Caller } from '../auth/caller';
import { ApiProblem } from '../common/api-problem';
import { RequestSettings } from '../config/app-config';
import { RawBody } from '../common/raw-body';
import { parseLabelSelector } from '../common/validation';
import { LongPollGate } from '../policy/long-poll-gate';
import { FramingSetting } from '../sockets/framing/framing';
import { decodePayload } from '../sockets/payload-codec';
import { SocketRegistry } from '../sockets/socket-registry';
import { BufferReadResult, FrameReadResult, SendResult, TcpConnection } from '../sockets/tcp-connection';
import { AcceptedPageDto, BufferStateDto, ConnectionDto, ConnectionPageDto, toConnectionDto } from './dto/connection.dto';
import { CreateConnectionDto } from './dto/create-connection.dto';
import { CreateListenerDto } from './dto/create-listener.dto';
import { ConnectionFramingDto, FramingDto, toConnectionFramingDto, toFramingSetting } from './dto/framing.dto';
import { AcceptedQueryDto, ListConnectionsQueryDto, ListListenersQueryDto } from './dto/list-queries.dto';
import { ListenerDto, ListenerPageDto, toListenerDto } from './dto/listener.dto';
import { ReadBufferQueryDto } from './dto/read-buffer.dto';
import { ReadFramesQueryDto } from './dto/read-frames.dto';
import { SendDataDto, SendResultDto } from './dto/send.dto';
import { StartTlsDto } from '../tls/dto/start-tls.dto';
import { TlsService } from '../tls/tls.service';
import { RulesService } from '../rules/rules.service';

/**
 * Translates between the REST representations and the socket registry. Every call carries the
 * caller: new sockets belong to its key, and it sees only its own (all of them with an admin key).
 */
@Injectable()
export class TcpService {
  constructor(
    private readonly registry: SocketRegistry,
    private readonly config: RequestSettings,
    private readonly longPolls: LongPollGate,
    private readonly tls: TlsService,
    private readonly rules: RulesService,
  ) {}

  async createListener(dto: CreateListenerDto, caller: Caller): Promise<ListenerDto> {
    const { tls, rules, ...options } = dto;
    const server = tls && tls.mode !== 'off' ? { mode: tls.mode, server: await this.tls.serverFor(tls, caller) } : null;
    const listener = await this.registry.createListener({
      ...options,
      rules: rules && (await this.rules.compile(rules, 'tcp', caller, 'rules', server?.server ?? null)),
      idleTimeoutMs: dto.idleTimeoutMs ?? this.config.idleTimeoutMs,
      framing: this.framingOf(dto.framing),
      tls: server,
      owner: caller.owner,
    });
    return toListenerDto(listener);
  }

  listListeners(query: ListListenersQueryDto, caller: Caller): ListenerPageDto {
    const page = this.registry.listListeners({ owner: caller.scope, state: query.state, labels: parseLabelSelector(query.label) }, query.limit, query.cursor);
    return { items: page.items.map(toListenerDto), nextCursor: page.nextCursor };
  }

  getListener(id: string, caller: Caller): ListenerDto {
    return toListenerDto(this.registry.getListener(id, caller.scope));
  }

  async deleteListener(id: string, closeConnections: boolean, caller: Caller): Promise<ListenerDto> {
    return toListenerDto(await this.registry.closeListener(id, closeConnections, caller.scope));
  }

  async listAccepted(listenerId: string, query: AcceptedQueryDto, signal: AbortSignal, caller: Caller): Promise<AcceptedPageDto> {
    const waitMs = Math.min(query.waitMs, this.config.maxWaitMs);
    const connections = await this.longPolls.run(waitMs, () => this.registry.waitForAccepted(listenerId, query.after, query.limit, waitMs, signal, caller.scope));
    return {
      items: connections.map(toConnectionDto),
      lastAcceptIndex: connections.length > 0 ? (connections[connections.length - 1].acceptIndex ?? query.after) : query.after,
    };
  }

  async createConnection(dto: CreateConnectionDto, caller: Caller): Promise<ConnectionDto> {
    const { tls, rules, ...options } = dto;
    const connection = await this.registry.connect({
      ...options,
      rules: rules && (await this.rules.compile(rules, 'tcp', caller, 'rules')),
      tls: tls && tls.mode !== 'off' ? this.tls.clientFor(tls, caller) : null,
      idleTimeoutMs: dto.idleTimeoutMs ?? this.config.idleTimeoutMs,
      timeoutMs: dto.connectTimeoutMs,
      framing: this.framingOf(dto.framing),
      owner: caller.owner,
    });
    return toConnectionDto(connection);
  }

  listConnections(query: ListConnectionsQueryDto, caller: Caller): ConnectionPageDto {
    const filter = { owner: caller.scope, state: query.state, labels: parseLabelSelector(query.label), listenerId: query.listenerId, direction: query.direction };
    const page = this.registry.listConnections(filter, query.limit, query.cursor);
    return { items: page.items.map(toConnectionDto), nextCursor: page.nextCursor };
  }

  async startTls(id: string, dto: StartTlsDto, caller: Caller): Promise<ConnectionDto> {
    const connection = this.registry.getConnection(id, caller.scope);
    await this.tls.startTls(connection, dto, caller);
    return toConnectionDto(connection);
  }

  getConnection(id: string, caller: Caller): ConnectionDto {
    return toConnectionDto(this.registry.getConnection(id, caller.scope));
  }

  async deleteConnection(id: string, mode: 'graceful' | 'reset', caller: Caller): Promise<ConnectionDto> {
    return toConnectionDto(await this.registry.closeConnection(id, mode, caller.scope));
  }

  async send(id: string, body: SendDataDto | RawBody, endAfterRaw: boolean, caller: Caller): Promise<SendResultDto> {
    const connection = this.registry.getConnection(id, caller.scope);
    const { result, framesSent } = await this.sendBody(connection, body, endAfterRaw);
    return { connectionId: id, bytesSent: result.bytesSent, framesSent, bytesOut: connection.bytesOut, ended: result.ended, state: connection.state };
  }

  /** Raw bytes as they are; JSON `data` as bytes or, with `frame`, one frame; JSON `frames` as frames. */
  private async sendBody(connection: TcpConnection, body: SendDataDto | RawBody, endAfterRaw: boolean): Promise<{ result: SendResult; framesSent: number }> {
    if (body instanceof RawBody) return { result: await connection.send(body.chunks, endAfterRaw), framesSent: 0 };
    if (body.frames !== undefined) {
      if (body.data !== undefined || body.frame) throw invalid('frames', 'frames replaces data and frame: give either data (with frame) or frames');
      const payloads = body.frames.map((f, i) => decodePayload(f.data, f.encoding, `frames[${i}].data`));
      return { result: await connection.sendFrames(payloads, body.end), framesSent: payloads.length };
    }
    if (body.data === undefined) throw invalid('data', 'data is required');
    const payload = decodePayload(body.data, body.encoding);
    if (body.frame) return { result: await connection.sendFrames([payload], body.end), framesSent: 1 };
    return { result: await connection.send([payload], body.end), framesSent: 0 };
  }

  setFraming(id: string, dto: FramingDto, caller: Caller): ConnectionFramingDto {
    const connection = this.registry.getConnection(id, caller.scope);
    connection.setFraming(toFramingSetting(dto, this.config.maxBufferedBytes, ''));
    return toConnectionFramingDto(connection.framingStatus);
  }

  /** Reads frames; the controller renders them as JSON or binary frames. */
  readFrames(id: string, query: ReadFramesQueryDto, signal: AbortSignal, caller: Caller): Promise<FrameReadResult> {
    const connection = this.registry.getConnection(id, caller.scope);
    const waitMs = Math.min(query.waitMs, this.config.maxWaitMs);
    return this.longPolls.run(waitMs, () =>
      connection.readFrames({ from: query.from, max: query.max, minFrames: query.minFrames, maxBytes: this.config.maxReadBytes, waitMs, signal }),
    );
  }

  releaseFrames(id: string, upTo: number, caller: Caller): ConnectionFramingDto {
    const connection = this.registry.getConnection(id, caller.scope);
    connection.releaseFramesUpTo(upTo);
    return toConnectionFramingDto(connection.framingStatus);
  }

  private framingOf(dto: FramingDto | undefined): FramingSetting | undefined {
    return dto && toFramingSetting(dto, this.config.maxBufferedBytes);
  }

  /** Reads raw bytes; the controller renders them as JSON or octet-stream. */
  read(id: string, query: ReadBufferQueryDto, signal: AbortSignal, caller: Caller): Promise<BufferReadResult> {
    const connection = this.registry.getConnection(id, caller.scope);
    const waitMs = Math.min(query.waitMs, this.config.maxWaitMs);
    const until = query.until === undefined ? undefined : decodePayload(query.until, query.untilEncoding, 'until');
    return this.longPolls.run(waitMs, () =>
      connection.read({ from: query.from, maxBytes: Math.min(query.maxBytes, this.config.maxReadBytes), minBytes: query.minBytes, until, waitMs, signal }),
    );
  }

  release(id: string, upTo: number, caller: Caller): BufferStateDto {
    const connection = this.registry.getConnection(id, caller.scope);
    connection.releaseUpTo(upTo);
    return toConnectionDto(connection).buffer;
  }
}

function invalid(field: string, message: string): ApiProblem {
  return new ApiProblem('VALIDATION_FAILED', message, {}, [{ field, message }]);
}
