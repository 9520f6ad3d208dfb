import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { ClusterService } from '../cluster/cluster.service';
import { AppConfig } from '../config/app-config';
import { SocketRegistry } from '../sockets/socket-registry';
import { EventLoopLagMonitor } from './event-loop-lag.monitor';

/** What `/health/ready` checks: can the registry take new work right now? */
@Injectable()
export class ReadinessIndicators {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly registry: SocketRegistry,
    private readonly config: AppConfig,
    private readonly eventLoop: EventLoopLagMonitor,
    private readonly cluster: ClusterService,
  ) {}

  /** Down once shutdown began: new sockets are refused from then on. */
  accepting(): HealthIndicatorResult<'registry'> {
    const indicator = this.indicators.check('registry');
    return this.registry.isShuttingDown ? indicator.down({ message: 'shutting down' }) : indicator.up();
  }

  /** Down while the registry holds `SOCKPLANE_MAX_SOCKETS` sockets: creates would answer 429. */
  socketQuota(): HealthIndicatorResult<'socketQuota'> {
    const indicator = this.indicators.check('socketQuota');
    const data = { held: this.registry.size, max: this.config.maxSockets };
    return data.held < data.max ? indicator.up(data) : indicator.down({ ...data, message: 'socket quota exhausted' });
  }

  /** Down while recent event-loop stalls exceed `SOCKPLANE_MAX_EVENT_LOOP_LAG_MS`. */
  eventLoopLag(): HealthIndicatorResult<'eventLoop'> {
    const indicator = this.indicators.check('eventLoop');
    const data = { lagMs: Math.round(this.eventLoop.lagMs), maxLagMs: this.config.maxEventLoopLagMs };
    return data.lagMs <= data.maxLagMs ? indicator.up(data) : indicator.down({ ...data, message: 'event loop lagging' });
  }

  /**
   * In a cluster: whether Redis answers. Reported, never a reason to be unready: without Redis
   * the node still serves every socket it holds, and Redis away is away for every node alike,
   * so taking nodes out of the load balancer would only stop those calls too. Null on a single node.
   */
  redis(): HealthIndicatorResult<'redis'> | null {
    const available = this.cluster.redisAvailable;
    if (available === null) return null;
    return this.indicators.check('redis').up({ redis: available ? 'ready' : 'unavailable' });
  }
}
