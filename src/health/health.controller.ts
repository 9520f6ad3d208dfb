import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheck, HealthCheckResult, HealthCheckService, HealthIndicatorFunction } from '@nestjs/terminus';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../common/api-docs';
import { ApiProblem } from '../common/api-problem';
import { HealthCheckDto } from './dto/health-check.dto';
import { ReadinessIndicators } from './readiness.indicators';

@ApiTags('Operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly readiness: ReadinessIndicators,
  ) {}

  @Get('live')
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOperation({ summary: 'Liveness', description: 'Answers 200 while the process serves HTTP (503 once it is shutting down). The container health check uses it.' })
  @ApiResponse({ status: 200, type: HealthCheckDto, description: 'Alive' })
  @ApiProblems('NOT_READY')
  checkLiveness(): Promise<HealthCheckResult> {
    return this.check([]);
  }

  @Get('ready')
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOperation({
    summary: 'Readiness',
    description:
      'Answers 200 while the service accepts new sockets: not shutting down, the socket quota (`SOCKPLANE_MAX_SOCKETS`) not exhausted, ' +
      'and no recent event-loop stall above `SOCKPLANE_MAX_EVENT_LOOP_LAG_MS`. Otherwise 503, with the indicators that are down under `error`. ' +
      'In a cluster, `redis` reports whether Redis answers (`ready` or `unavailable`), which never makes the node unready.',
  })
  @ApiResponse({ status: 200, type: HealthCheckDto, description: 'Ready' })
  @ApiProblems('NOT_READY')
  checkReadiness(): Promise<HealthCheckResult> {
    const redis = this.readiness.redis();
    const clustered: HealthIndicatorFunction[] = redis === null ? [] : [() => redis];
    return this.check([() => this.readiness.accepting(), () => this.readiness.socketQuota(), () => this.readiness.eventLoopLag(), ...clustered]);
  }

  /** Terminus answers 503 with its own body; it becomes a problem document keeping terminus's members. */
  private async check(indicators: HealthIndicatorFunction[]): Promise<HealthCheckResult> {
    try {
      return await this.health.check(indicators);
    } catch (err) {
      if (!(err instanceof ServiceUnavailableException)) throw err;
      const result = err.getResponse() as HealthCheckResult;
      const down = Object.entries(result.error ?? {}).map(([name, indicator]) => `${name}: ${String(indicator?.message ?? 'down')}`);
      const detail = result.status === 'shutting_down' ? 'the service is shutting down' : `not ready (${down.join('; ')})`;
      throw new ApiProblem('NOT_READY', detail, { info: result.info ?? {}, error: result.error ?? {}, details: result.details });
    }
  }
}
