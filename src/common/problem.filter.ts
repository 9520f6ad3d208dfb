import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger, NotFoundException } from '@nestjs/common';
import { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES as REASON_PHRASES } from 'node:http';
import { Duplex } from 'node:stream';
import { SocketError } from '../sockets/socket-error';
import { TlsError } from '../sockets/tls/tls-error';
import { ApiProblem, FieldError } from './api-problem';
import { ApiErrorCode, CatalogEntry, ERROR_CATALOG, PROBLEM_CONTENT_TYPE, problemType } from './error-catalog';
import { recordProblem } from './problem-record';
import { RouteMethods } from './route-methods';

interface Problem {
  code: ApiErrorCode;
  detail: string;
  details?: Readonly<Record<string, unknown>>;
  errors?: FieldError[];
  /** The methods the path takes, sent as `Allow` (a 405). */
  allow?: string[];
}

/** Fastify's own request errors (body parsing, limits), by their `code`. */
const FASTIFY_CODES: Record<string, ApiErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_REQUEST',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'MALFORMED_REQUEST',
  FST_ERR_CTP_EMPTY_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
};

/** Codes for HTTP exceptions Nest or a library raised, by status. */
const STATUS_CODES: Record<number, ApiErrorCode> = {
  400: 'VALIDATION_FAILED',
  // Raised by Nest's cross-origin protection (`enableCsrfProtection`), the only source of a bare 403.
  403: 'CROSS_ORIGIN_DENIED',
  404: 'ROUTE_NOT_FOUND',
  406: 'NOT_ACCEPTABLE',
  413: 'BODY_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

/** Renders every error as RFC 9457 problem+json with a stable `code`: the one place errors meet HTTP. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger(ProblemFilter.name);

  constructor(private readonly routes: RouteMethods) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    if (isClientAbort(exception, request)) {
      // The client's doing, not a fault of the service, and there is no one left to answer.
      this.logger.debug({ msg: `${request.method} ${request.url.split('?')[0]}: the client hung up before its request was read`, requestId: request.id });
      return;
    }
    const problem = this.toProblem(exception, request);
    const { status } = ERROR_CATALOG[problem.code];
    if (status >= 500 && problem.code === 'INTERNAL_ERROR') {
      this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    }
    if (reply.sent) return;
    const errno = problem.details?.errno;
    recordProblem(reply.raw, typeof errno === 'string' ? { code: problem.code, errno } : { code: problem.code });
    sendProblem(reply, request, problem);
  }

  private toProblem(exception: unknown, request: FastifyRequest): Problem {
    if (exception instanceof SocketError || exception instanceof TlsError || exception instanceof ApiProblem) {
      return {
        code: exception.code,
        detail: exception.message,
        details: exception.details,
        errors: exception instanceof ApiProblem ? exception.errors : undefined,
      };
    }
    // Nest wraps Fastify's request errors in an HttpException whose cause keeps the Fastify code.
    const fastifyError = exception instanceof HttpException ? exception.cause : exception;
    const fastifyCode = (fastifyError as { code?: unknown } | null)?.code;
    if (typeof fastifyCode === 'string' && fastifyCode in FASTIFY_CODES) {
      const code = FASTIFY_CODES[fastifyCode];
      const detail =
        code === 'UNSUPPORTED_MEDIA_TYPE'
          ? 'send application/json, or application/octet-stream where the operation takes raw bytes'
          : (fastifyError as Error).message;
      return { code, detail };
    }
    if (exception instanceof NotFoundException) {
      const path = request.url.split('?')[0];
      const allow = this.routes.allowedFor(path);
      if (allow.length > 0 && !allow.includes(request.method)) {
        return { code: 'METHOD_NOT_ALLOWED', detail: `${path} takes ${allow.join(', ')}, not ${request.method}`, allow };
      }
      return { code: 'ROUTE_NOT_FOUND', detail: exception.message };
    }
    if (exception instanceof HttpException) {
      return { code: STATUS_CODES[exception.getStatus()] ?? 'INTERNAL_ERROR', detail: exception.message };
    }
    return { code: 'INTERNAL_ERROR', detail: 'An unexpected error occurred; it has been logged.' };
  }
}

/** Node aborts a request whose connection closes before its body arrived (`Error: aborted`, ECONNRESET). */
function isClientAbort(exception: unknown, request: FastifyRequest): boolean {
  return exception instanceof Error && (exception as NodeJS.ErrnoException).code === 'ECONNRESET' && request.raw.socket.destroyed;
}

function sendProblem(reply: FastifyReply, request: FastifyRequest, problem: Problem): void {
  const entry: CatalogEntry = ERROR_CATALOG[problem.code];
  const body = {
    type: problemType(problem.code),
    title: entry.title,
    status: entry.status,
    detail: problem.detail,
    instance: request.url.split('?')[0],
    code: problem.code,
    ...problem.details,
    ...(problem.errors?.length ? { errors: problem.errors } : {}),
  };
  if (entry.retryAfterSeconds !== undefined) reply.header('retry-after', entry.retryAfterSeconds);
  if (problem.allow) reply.header('allow', problem.allow.join(', '));
  reply.status(entry.status).header('content-type', `${PROBLEM_CONTENT_TYPE}; charset=utf-8`).send(JSON.stringify(body));
}

/**
 * Fastify's router refuses some URLs before any route runs (a malformed percent escape, a path
 * segment longer than any id), so Nest never sees them; this renders them the same way.
 */
export function renderRouterError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const detail = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'a path segment is longer than any id' : 'the URL is not valid (a bad percent escape?)';
  sendProblem(reply, request, { code: 'VALIDATION_FAILED', detail, errors: [{ field: 'path', message: detail }] });
}

/**
 * Requests Node's HTTP parser refuses before Fastify sees them (headers too large, a request
 * not received in time, broken framing) get the same problem+json, on a connection that then
 * closes: its stream can no longer be trusted.
 */
export function renderClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const code: ApiErrorCode = err.code === 'HPE_HEADER_OVERFLOW' ? 'HEADERS_TOO_LARGE' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'REQUEST_TIMEOUT' : 'MALFORMED_REQUEST';
  const { status, title } = ERROR_CATALOG[code];
  const detail = code === 'MALFORMED_REQUEST' ? 'the request is not valid HTTP' : title;
  const body = JSON.stringify({ type: problemType(code), title, status, detail, code });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${REASON_PHRASES[status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
