import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { Counter, Gauge } from 'prom-client';
import { WebSocket } from 'ws';
import { ticketGrantOf, callerOf } from '../auth/api-key.hook';
import { AttachTickets, IssuedTicket } from '../auth/attach-tickets';
import { Caller } from '../auth/caller';
import { ApiProblem } from '../common/api-problem';
import { AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { crossOriginRefusal } from '../security/cross-origin';
import { SocketEventIn } from '../sockets/socket-events';
import { SocketError } from '../sockets/socket-error';
import { SocketRegistry } from '../sockets/socket-registry';
import { TcpConnection } from '../sockets/tcp-connection';
import { UdpSocket } from '../sockets/udp-socket';
import { AttachProtocol, CLOSE_CODE, chooseProtocol, offeredProtocols } from './attach-protocol';
import { Attachment, AttachSettings } from './attachment';
import { AttachConnectionQueryDto, AttachUdpSocketQueryDto } from './dto/attach-query.dto';
import { AttachTicketDto } from './dto/attach-ticket.dto';
import { TcpAttachment } from './tcp-attachment';
import { UdpAttachment } from './udp-attachment';

/** The events attachments pass on to their WebSockets: received bytes and datagrams, the peer's FIN, TLS, the close. */
const ATTACHED_EVENTS = ['connection.data', 'connection.peer-ended', 'tls.established', 'connection.closed', 'udp.datagram', 'udp.closed'] as const;

/** Which kind of socket an attach route reaches, as its route config names it. */
export type AttachTarget = 'tcp' | 'udp';

/** An upgrade that passed every check, waiting for the WebSocket handshake to finish. */
interface AttachPlan {
  target: AttachTarget;
  resource: TcpConnection | UdpSocket;
  protocol: AttachProtocol;
  query: AttachConnectionQueryDto | AttachUdpSocketQueryDto;
  exclusiveWriter: boolean;
}

/** Unsent bytes at which either side of an attachment is paused. */
const HIGH_WATER_BYTES = 4 * 1024 * 1024;

/**
 * Attaches WebSockets to sockets. An upgrade is checked before it is answered (`admit`, a
 * route hook: the socket exists and is the caller's, the page's origin may use it, a ticket
 * allows what is asked, the write lock is free, a subprotocol fits) so every refusal is an
 * HTTP problem; the handshake then hands the WebSocket to `attach`. One subscription to the
 * runtime's events feeds every attachment by socket id. Detaching lets go of everything: the
 * hold on the socket, the write lock, the entry here; shutdown detaches all.
 */
@Injectable()
export class AttachService implements BeforeApplicationShutdown {
  private readonly attachments = new Map<string, Set<TcpAttachment | UdpAttachment>>();
  /** The attachment holding each socket's write lock (`exclusiveWriter`). */
  private readonly writers = new Map<string, Attachment>();
  private readonly plans = new WeakMap<FastifyRequest, AttachPlan>();
  private readonly unsubscribe: () => void;
  private readonly settings: AttachSettings = { highWaterBytes: HIGH_WATER_BYTES };
  private readonly detaches: Counter<'kind' | 'code'>;

  constructor(
    private readonly registry: SocketRegistry,
    private readonly tickets: AttachTickets,
    private readonly config: AppConfig,
    metrics: MetricsService,
  ) {
    this.unsubscribe = registry.events.subscribe(this.dispatch, ATTACHED_EVENTS);
    const attachments = this.attachments;
    new Gauge({
      name: 'sockplane_attachments',
      help: 'WebSockets attached to sockets now, by the kind of socket',
      labelNames: ['kind'],
      registers: [metrics.registry],
      collect() {
        this.reset();
        this.set({ kind: 'tcp-connection' }, 0);
        for (const set of attachments.values()) for (const attachment of set) this.inc({ kind: attachment.kind });
      },
    });
    this.detaches = new Counter({
      name: 'sockplane_attach_detaches_total',
      help: 'WebSockets detached, by the kind of socket and the close code (docs/attach.md: 1000 the client, 1001 shutdown, 4100 the socket closed, …)',
      labelNames: ['kind', 'code'],
      registers: [metrics.registry],
    });
  }

  /** WebSockets attached right now. */
  get size(): number {
    let size = 0;
    for (const set of this.attachments.values()) size += set.size;
    return size;
  }

  issueTicket(target: AttachTarget, id: string, dto: AttachTicketDto, caller: Caller): IssuedTicket {
    const resource = this.find(target, id, caller);
    return this.tickets.issue(resource.id, caller, dto.write);
  }

  /** The checks of an attach request, upgrade or not; an upgrade that passes them gets its plan. */
  admit(target: AttachTarget, request: FastifyRequest): void {
    const query = request.query as AttachConnectionQueryDto | AttachUdpSocketQueryDto;
    const { id } = request.params as { id: string };
    const refusal = crossOriginRefusal(request.headers, this.config.corsOrigins);
    if (refusal) throw refusal;
    const resource = this.find(target, id, callerOf(request));
    if (!query.read && !query.write) throw invalid('read', 'an attachment reads, writes or both: read and write cannot both be false');
    if (query.exclusiveWriter && !query.write) throw invalid('exclusiveWriter', 'exclusiveWriter takes the write lock and needs write=true');
    const grant = ticketGrantOf(request);
    if (grant !== null && query.write && !grant.write) {
      throw new ApiProblem('TICKET_INVALID', 'this ticket was issued for reading: ask for one with {"write": true} to attach with write=true');
    }
    if (query.write) this.assertWritable(resource, query.exclusiveWriter);
    // A replay start the log no longer holds, or has not reached, is the caller's mistake: refused here, before the upgrade.
    if (resource instanceof TcpConnection) {
      const { fromOffset } = query as AttachConnectionQueryDto;
      if (fromOffset !== undefined) resource.assertReadableOffset(fromOffset);
    } else {
      const { fromSeq } = query as AttachUdpSocketQueryDto;
      if (fromSeq !== undefined) resource.assertReadableSeq(fromSeq);
    }
    if (!request.ws) return;
    const protocol = chooseProtocol(offeredProtocols(request.headers['sec-websocket-protocol']));
    if (protocol === null) {
      throw invalid('sec-websocket-protocol', 'offer one of the subprotocols sockplane.raw.v1 or sockplane.channel.v1 (or none, for raw)');
    }
    this.plans.set(request, { target, resource, protocol, query, exclusiveWriter: query.exclusiveWriter });
  }

  /** The WebSocket of an admitted upgrade, once the handshake is done. */
  attach(ws: WebSocket, request: FastifyRequest): void {
    const plan = this.plans.get(request);
    if (plan === undefined) {
      ws.close(CLOSE_CODE.SEND_FAILED, 'the upgrade was not admitted');
      return;
    }
    const { resource, query } = plan;
    const attachment =
      resource instanceof TcpConnection
        ? new TcpAttachment(
            ws,
            resource,
            {
              protocol: plan.protocol,
              fromOffset: (query as AttachConnectionQueryDto).fromOffset ?? null,
              releaseAuto: query.release === 'auto',
              read: query.read,
              write: query.write,
              transport: request.raw.socket,
            },
            this.settings,
            this.onDetached,
          )
        : new UdpAttachment(
            ws,
            resource,
            { protocol: plan.protocol, fromSeq: (query as AttachUdpSocketQueryDto).fromSeq ?? null, releaseAuto: query.release === 'auto', read: query.read, write: query.write },
            this.settings,
            this.onDetached,
          );
    // The lock was free when the upgrade was admitted; another upgrade may have taken it during the handshake.
    if (plan.exclusiveWriter) {
      const holder = this.writers.get(resource.id);
      if (holder) {
        ws.close(CLOSE_CODE.UNSUPPORTED, 'another attachment holds the write lock');
        return;
      }
      this.writers.set(resource.id, attachment);
    }
    let set = this.attachments.get(resource.id);
    if (set === undefined) this.attachments.set(resource.id, (set = new Set()));
    set.add(attachment);
    attachment.start().catch((err: Error) => attachment.detach(CLOSE_CODE.SEND_FAILED, err.message));
  }

  beforeApplicationShutdown(): void {
    this.unsubscribe();
    for (const set of [...this.attachments.values()]) {
      for (const attachment of [...set]) attachment.detach(CLOSE_CODE.GOING_AWAY, 'the service is shutting down');
    }
  }

  private find(target: AttachTarget, id: string, caller: Caller): TcpConnection | UdpSocket {
    return target === 'tcp' ? this.registry.getConnection(id, caller.scope) : this.registry.getUdpSocket(id, caller.scope);
  }

  private assertWritable(resource: TcpConnection | UdpSocket, exclusive: boolean): void {
    if (resource.closed) throw new SocketError('SOCKET_CLOSED', `${resource.id} is closed: it can no longer send`, { state: 'closed' });
    const holder = this.writers.get(resource.id);
    if (holder) throw new ApiProblem('WRITER_ATTACHED', `another attachment holds the write lock of ${resource.id}: detach it, or attach without exclusiveWriter`);
    if (exclusive && [...(this.attachments.get(resource.id) ?? [])].some((a) => a.writes)) {
      throw new ApiProblem('WRITER_ATTACHED', `another attachment writes to ${resource.id}: exclusiveWriter needs to be the only writer`);
    }
  }

  private readonly onDetached = (attachment: Attachment, code: number): void => {
    this.detaches.inc({ kind: attachment.kind, code: String(code) });
    const set = this.attachments.get(attachment.resourceId);
    set?.delete(attachment as TcpAttachment | UdpAttachment);
    if (set?.size === 0) this.attachments.delete(attachment.resourceId);
    if (this.writers.get(attachment.resourceId) === attachment) this.writers.delete(attachment.resourceId);
  };

  private readonly dispatch = (event: SocketEventIn<typeof ATTACHED_EVENTS>): void => {
    const set = this.attachments.get(event.resourceId);
    if (set === undefined) return;
    for (const attachment of set) {
      if (attachment instanceof TcpAttachment) {
        switch (event.type) {
          case 'connection.data':
            if (event.payload) attachment.received(event.payload, event.data.from);
            break;
          case 'connection.peer-ended':
            attachment.peerEnded(event.data);
            break;
          case 'tls.established':
            attachment.tlsEstablished(event.data);
            break;
          case 'connection.closed':
            attachment.socketClosed(event.data);
            break;
        }
      } else if (event.type === 'udp.datagram' && event.payload) {
        attachment.received(event.data, event.payload, event.at);
      } else if (event.type === 'udp.closed') {
        attachment.socketClosed(event.data);
      }
    }
  };
}

function invalid(field: string, message: string): ApiProblem {
  return new ApiProblem('VALIDATION_FAILED', message, {}, [{ field, message }]);
}
