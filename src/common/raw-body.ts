import { FastifyInstance, errorCodes } from 'fastify';

export const OCTET_STREAM = 'application/octet-stream';

/**
 * An `application/octet-stream` request body as the chunks it arrived in. Fastify's own raw
 * parser joins them into one new buffer; a 4 MiB send then allocated and copied 4 MiB more
 * before any byte went on (bench/README.md). Writing the chunks as they are needs no copy.
 */
export class RawBody {
  constructor(
    readonly chunks: readonly Buffer[],
    readonly length: number,
  ) {}

  /** The bytes as one buffer: the only chunk, or a copy of them all. */
  toBuffer(): Buffer {
    return this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.length);
  }
}

/**
 * Parses `application/octet-stream` bodies into a `RawBody`, with the checks Fastify's raw
 * parser makes: a declared or received length over `bodyLimit` is refused as too large, a body
 * shorter or longer than its Content-Length as malformed, a stream error as a 400.
 *
 * The chunks are Node's HTTP body chunks: views of the buffer each socket read allocated, never
 * of a buffer reused across reads, so keeping them is safe.
 */
export function registerRawBodyParser(fastify: FastifyInstance, bodyLimit: number): void {
  fastify.addContentTypeParser(OCTET_STREAM, { bodyLimit }, (request, payload, done) => {
    const declared = Number(request.headers['content-length']);
    if (declared > bodyLimit) {
      done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE(), undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    const stop = (): void => {
      payload.removeListener('data', onData);
      payload.removeListener('end', onEnd);
      payload.removeListener('error', onEnd);
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > bodyLimit) {
        stop();
        done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE(), undefined);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (err?: Error & { statusCode?: number }): void => {
      stop();
      if (err) {
        if (!(typeof err.statusCode === 'number' && err.statusCode >= 400)) err.statusCode = 400;
        done(err, undefined);
      } else if (!Number.isNaN(declared) && received !== declared) {
        done(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH(), undefined);
      } else {
        done(null, new RawBody(chunks, received));
      }
    };
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onEnd);
    payload.resume();
  });
}
