import { FastifyReply } from 'fastify';

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  // nginx buffers responses unless told not to; a buffered event stream arrives in bursts.
  'x-accel-buffering': 'no',
};

/**
 * An HTTP answer as a Server-Sent Events stream. The controller wraps its reply in one and hands
 * it over; the reply is taken over only by `open`, so whatever is refused before then is still an
 * ordinary problem+json answer.
 */
export class SseReply {
  constructor(private readonly reply: FastifyReply) {}

  /**
   * Takes the reply over and sends the stream's headers; `onGone` runs when the client goes away.
   * False for a HEAD request (Fastify serves it with the GET handler): the headers alone answer it.
   */
  open(onGone: () => void): boolean {
    this.reply.hijack();
    const response = this.reply.raw;
    if (this.reply.request.method === 'HEAD') {
      response.writeHead(200, SSE_HEADERS).end();
      return false;
    }
    response.once('close', onGone);
    response.on('error', onGone);
    response.writeHead(200, SSE_HEADERS);
    response.flushHeaders();
    return true;
  }

  /** Writes the text; false when the reader is behind and `onceDrain` must be awaited. */
  write(text: string): boolean {
    return this.reply.raw.write(text);
  }

  onceDrain(listener: () => void): void {
    this.reply.raw.once('drain', listener);
  }

  end(): void {
    const response = this.reply.raw;
    // A reader that stopped reading would never take the end, and the server could not close.
    if (response.writableNeedDrain) response.destroy();
    else response.end();
  }
}
