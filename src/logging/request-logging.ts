import { IncomingMessage, ServerResponse } from 'node:http';
import { LevelWithSilent, Logger } from 'pino';
import { Options } from 'pino-http';
import { recordedProblem } from '../common/problem-record';

/** Probes and scrapes repeat every few seconds: they are logged only when they fail. */
const QUIET_PATHS = new Set(['/health/live', '/health/ready', '/metrics']);

/**
 * pino-http settings: one line per request when it completes, carrying `requestId` (Fastify's
 * request id, see `request-id.ts`). The line keeps the method, the path without its query
 * (queries can carry payload bytes such as a delimiter), the status and the time taken, and for
 * a failed request its problem `code` and `errno`; never headers or bodies.
 */
export function requestLoggingOptions(logger: Logger): Options {
  return {
    logger,
    quietReqLogger: true,
    customAttributeKeys: { reqId: 'requestId' },
    serializers: {
      // pino-http's standard request serializer has already put the original URL in `url`.
      req: (req: { method: string; url: string; remoteAddress?: string }) => ({ method: req.method, path: req.url.split('?')[0], remoteAddress: req.remoteAddress }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
    customLogLevel: (req: IncomingMessage, res: ServerResponse, err?: Error): LevelWithSilent => {
      if (QUIET_PATHS.has(pathOf(req))) return res.statusCode < 400 ? 'silent' : 'warn';
      if (err || res.statusCode === 500) return 'error';
      return res.statusCode > 500 ? 'warn' : 'info';
    },
    customSuccessObject: (_req: IncomingMessage, res: ServerResponse, value: object) => withProblem(res, value),
    customSuccessMessage: (req: IncomingMessage, res: ServerResponse) => `${req.method} ${pathOf(req)} ${res.statusCode}`,
    customErrorMessage: (req: IncomingMessage, res: ServerResponse) => `${req.method} ${pathOf(req)} ${res.statusCode}`,
    // pino-http invents an Error with a stack for every 5xx: the problem code says more, and the
    // problem filter logs the stack of a real internal error.
    customErrorObject: (_req: IncomingMessage, res: ServerResponse, _err: Error, value: { responseTime: number }) =>
      withProblem(res, { res, responseTime: value.responseTime }),
  };
}

function withProblem(res: ServerResponse, value: object): object {
  const problem = recordedProblem(res);
  return problem ? { ...value, problem } : value;
}

/** Nest's middleware adapter strips its mount path from `url`; `originalUrl` keeps the request's. */
function pathOf(req: IncomingMessage & { originalUrl?: string }): string {
  return (req.originalUrl ?? req.url ?? '/').split('?')[0];
}
