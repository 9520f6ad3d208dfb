import { FastifyInstance } from 'fastify';
import { Level, Logger } from 'pino';
import { recordedProblem } from '../common/problem-record';

/** Probes and scrapes repeat every few seconds: they are logged only when they fail. */
const QUIET_PATHS = new Set(['/health/live', '/health/ready', '/metrics']);

/**
 * One line per request when its answer is sent (at `debug` for a successful `@DataCall()`),
 * carrying `requestId` (Fastify's request id, see `request-id.ts`): the method, the path
 * without its query (queries can carry payload bytes such as a delimiter), the status, the
 * time taken, and for a failed request its problem `code` and `errno`; never headers or
 * bodies. A Fastify hook rather than Nest middleware (pino-http): on this hot path the
 * middleware and its per-request async context cost more than the rest of a `send`
 * (bench/README.md).
 */
export function logRequests(fastify: FastifyInstance, logger: Logger): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    const path = request.url.split('?')[0];
    const statusCode = reply.statusCode;
    const level = levelFor(path, statusCode, request.routeOptions.config.dataCall === true);
    if (level && logger.isLevelEnabled(level)) {
      const problem = recordedProblem(reply.raw);
      logger[level](
        {
          requestId: request.id,
          req: { method: request.method, path, remoteAddress: request.ip },
          res: { statusCode },
          responseTime: Math.round(reply.elapsedTime * 1000) / 1000,
          ...(problem ? { problem } : {}),
        },
        `${request.method} ${path} ${statusCode}`,
      );
    }
    done();
  });
}

function levelFor(path: string, statusCode: number, dataCall: boolean): Level | null {
  if (QUIET_PATHS.has(path)) return statusCode < 400 ? null : 'warn';
  if (statusCode === 500) return 'error';
  if (statusCode > 500) return 'warn';
  return dataCall && statusCode < 400 ? 'debug' : 'info';
}
