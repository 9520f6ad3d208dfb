import { Injectable } from '@nestjs/common';
import { Caller } from '../auth/caller';
import { ApiProblem } from '../common/api-problem';
import { RawBody } from '../common/raw-body';
import { parseLabelSelector } from '../common/validation';
import { RequestSettings } from '../config/app-config';
import { LongPollGate } from '../policy/long-poll-gate';
import { RulesService } from '../rules/rules.service';
import { decodePayload } from '../sockets/payload-codec';
import { SocketRegistry } from '../sockets/socket-registry';
import { DatagramReadResult, UdpType } from '../sockets/udp-socket';
import { CreateUdpSocketDto } from './dto/create-udp-socket.dto';
import { ListUdpSocketsQueryDto } from './dto/list-udp-sockets.dto';
import { ReadDatagramsQueryDto } from './dto/read-datagrams.dto';
import { SendDatagramDto, SendDatagramQueryDto, SendDatagramResultDto } from './dto/send-datagram.dto';
import { DatagramBufferStateDto, UdpSocketDto, UdpSocketPageDto, toDatagramBufferStateDto, toUdpSocketDto } from './dto/udp-socket.dto';

/** Loopback of the socket's family: a socket is reachable from this host only unless asked otherwise. */
const DEFAULT_BIND_HOST: Record<UdpType, string> = { udp4: '127.0.0.1', udp6: '::1' };

/**
 * Translates between the REST representations and the socket registry. Every call carries the
 * caller: new sockets belong to its key, and it sees only its own (all of them with an admin key).
 */
@Injectable()
export class UdpService {
  constructor(
    private readonly registry: SocketRegistry,
    private readonly config: RequestSettings,
    private readonly longPolls: LongPollGate,
    private readonly rules: RulesService,
  ) {}

  async createSocket(dto: CreateUdpSocketDto, caller: Caller): Promise<UdpSocketDto> {
    const socket = await this.registry.createUdpSocket({
      type: dto.type,
      host: dto.host ?? DEFAULT_BIND_HOST[dto.type],
      port: dto.port,
      mode: dto.mode,
      reuseAddr: dto.reuseAddr,
      ipv6Only: dto.type === 'udp6' && dto.ipv6Only,
      broadcast: dto.broadcast,
      ttl: dto.ttl,
      recvBufferSize: dto.recvBufferSize ?? null,
      sendBufferSize: dto.sendBufferSize ?? null,
      multicast: dto.multicast
        ? { groups: dto.multicast.groups, interface: dto.multicast.interface ?? null, ttl: dto.multicast.ttl, loopback: dto.multicast.loopback }
        : null,
      connectTo: dto.connectTo ? { host: dto.connectTo.host, port: dto.connectTo.port } : null,
      labels: dto.labels,
      owner: caller.owner,
      rules: dto.rules && (await this.rules.compile(dto.rules, 'udp', caller, 'rules')),
      name: dto.name ?? null,
    });
    return toUdpSocketDto(socket);
  }

  listSockets(query: ListUdpSocketsQueryDto, caller: Caller): UdpSocketPageDto {
    const page = this.registry.listUdpSockets({ owner: caller.scope, state: query.state, labels: parseLabelSelector(query.label) }, query.limit, query.cursor);
    return { items: page.items.map(toUdpSocketDto), nextCursor: page.nextCursor };
  }

  getSocket(id: string, caller: Caller): UdpSocketDto {
    return toUdpSocketDto(this.registry.getUdpSocket(id, caller.scope));
  }

  async deleteSocket(id: string, caller: Caller): Promise<UdpSocketDto> {
    return toUdpSocketDto(await this.registry.closeUdpSocket(id, caller.scope));
  }

  /** A JSON body carries its destination; a raw body takes it from the query. */
  async send(id: string, body: SendDatagramDto | RawBody, query: SendDatagramQueryDto, caller: Caller): Promise<SendDatagramResultDto> {
    const socket = this.registry.getUdpSocket(id, caller.scope);
    const raw = body instanceof RawBody;
    if (!raw && (query.host !== undefined || query.port !== undefined)) {
      const field = query.host !== undefined ? 'host' : 'port';
      const message = `${field} in the query is for raw application/octet-stream bodies; put it in the JSON body`;
      throw new ApiProblem('VALIDATION_FAILED', message, {}, [{ field, message }]);
    }
    const bytes = raw ? body.toBuffer() : decodePayload(body.data, body.encoding);
    const destination = raw ? query : body;
    const result = await socket.send(bytes, { host: destination.host, port: destination.port });
    return { socketId: id, bytesSent: result.bytesSent, destination: result.destination, datagramsOut: socket.datagramsOut, bytesOut: socket.bytesOut };
  }

  /** Reads held datagrams; the controller renders them as JSON or as frames. */
  read(id: string, query: ReadDatagramsQueryDto, signal: AbortSignal, caller: Caller): Promise<DatagramReadResult> {
    const socket = this.registry.getUdpSocket(id, caller.scope);
    const waitMs = Math.min(query.waitMs, this.config.maxWaitMs);
    return this.longPolls.run(waitMs, () => socket.read({ from: query.from, max: query.max, minDatagrams: query.minDatagrams, maxBytes: this.config.maxReadBytes, waitMs, signal }));
  }

  release(id: string, upTo: number, caller: Caller): DatagramBufferStateDto {
    const socket = this.registry.getUdpSocket(id, caller.scope);
    socket.releaseUpTo(upTo);
    return toDatagramBufferStateDto(socket);
  }
}
