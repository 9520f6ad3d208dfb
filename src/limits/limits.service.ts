import { Injectable } from '@nestjs/common';
import { Caller } from '../auth/caller';
import { AppConfig } from '../config/app-config';
import { EventsService } from '../events/events.service';
import { LongPollGate } from '../policy/long-poll-gate';
import { SocketRegistry } from '../sockets/socket-registry';
import { LimitsDto } from './dto/limits.dto';

/** Gathers every limit the service enforces and how much of each is in use. */
@Injectable()
export class LimitsService {
  constructor(
    private readonly config: AppConfig,
    private readonly registry: SocketRegistry,
    private readonly longPolls: LongPollGate,
    private readonly events: EventsService,
  ) {}

  getLimits(caller: Caller): LimitsDto {
    const usage = this.registry.usage(caller.scope);
    const c = this.config;
    return {
      quotas: {
        sockets: { limit: c.maxSockets, used: usage.sockets, setting: 'SOCKPLANE_MAX_SOCKETS' },
        socketsPerKey: { limit: c.maxSocketsPerKey || null, used: usage.ownSockets, setting: 'SOCKPLANE_MAX_SOCKETS_PER_KEY' },
        bufferedBytes: { limit: c.maxTotalBufferedBytes, used: usage.bufferedBytes, setting: 'SOCKPLANE_MAX_TOTAL_BUFFERED_BYTES' },
        longPolls: { limit: c.maxLongPolls, used: this.longPolls.inUse, setting: 'SOCKPLANE_MAX_LONG_POLLS' },
        eventStreams: { limit: c.maxEventStreams, used: this.events.openStreams, setting: 'SOCKPLANE_MAX_EVENT_STREAMS' },
      },
      perRequest: { bodyBytes: c.bodyLimitBytes, waitMs: c.maxWaitMs, readBytes: c.maxReadBytes },
      perSocket: {
        bufferedBytes: c.maxBufferedBytes,
        pendingWriteBytes: c.maxPendingWriteBytes,
        datagrams: c.udpMaxDatagrams,
        datagramBytes: c.udpMaxBufferedBytes,
        defaultIdleTimeoutMs: c.idleTimeoutMs,
      },
    };
  }
}
