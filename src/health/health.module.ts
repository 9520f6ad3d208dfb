import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ClusterModule } from '../cluster/cluster.module';
import { EventLoopLagMonitor } from './event-loop-lag.monitor';
import { HealthController } from './health.controller';
import { ReadinessIndicators } from './readiness.indicators';

// Terminus's own logger stays off: a failing probe is logged once, as its request line.
@Module({
  imports: [TerminusModule.forRoot({ logger: false }), ClusterModule],
  controllers: [HealthController],
  providers: [EventLoopLagMonitor, ReadinessIndicators],
})
export class HealthModule {}
