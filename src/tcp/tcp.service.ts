import { Injectable } from '@nestjs/common';
import { Caller } from '../auth/caller';
import { RequestSettings } from '../config/app-config';
import { RawBody } from '../common/raw-body';
import { parseLabelSelector } from '../common/validation';
import { LongPollGate } from '../policy/long-poll-gate';
import { decodePayload } from '../sockets/payload-codec';
import { SocketRegistry } from '../sockets/socket-registry';
import { BufferReadResult } from '../sockets/tcp-connection';
import { AcceptedPageDto, BufferStateDto, ConnectionDto, ConnectionPageDto, toConnectionDto } from './dto/connection.dto';
import { CreateConnectionDto } from './dto/create-connection.dto';
import { CreateListenerDto } from './dto/create-listener.dto';
import { AcceptedQueryDto, ListConnectionsQueryDto, ListListenersQueryDto } from './dto/list-queries.dto';
import { ListenerDto, ListenerPageDto, toListenerDto } from './dto/listener.dto';
import { ReadBufferQueryDto } from './dto/read-buffer.dto';
import { SendDataDto, SendResultDto } from './dto/send.dto';
import { StartTlsDto } from '../tls/dto/start-tls.dto';
import { TlsService } from '../tls/tls.service';

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
  ) {}

  async createListener(dto: CreateListenerDto, caller: Caller): Promise<ListenerDto> {
    const { tls, ...options } = dto;
    const server = tls && tls.mode !== 'off' ? { mode: tls.mode, server: await this.tls.serverFor(tls, caller) } : null;
    const listener = await this.registry.createListener({ ...options, idleTimeoutMs: dto.idleTimeoutMs ?? this.config.idleTimeoutMs, tls: server, owner: caller.owner });
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
    const { tls, ...options } = dto;
    const connection = await this.registry.connect({
      ...options,
      tls: tls && tls.mode !== 'off' ? this.tls.clientFor(tls, caller) : null,
      idleTimeoutMs: dto.idleTimeoutMs ?? this.config.idleTimeoutMs,
      timeoutMs: dto.connectTimeoutMs,
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
    const raw = body instanceof RawBody;
    const chunks = raw ? body.chunks : [decodePayload(body.data, body.encoding)];
    const result = await connection.send(chunks, raw ? endAfterRaw : body.end);
    return { connectionId: id, bytesSent: result.bytesSent, bytesOut: connection.bytesOut, ended: result.ended, state: connection.state };
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
