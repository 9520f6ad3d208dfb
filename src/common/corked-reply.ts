import { FastifyReply } from 'fastify';

/** A raw-bytes answer: its media type, the headers that describe the bytes, and the bytes as the chunks they are held in. */
export class OctetAnswer {
  constructor(
    readonly contentType: string,
    readonly headers: Readonly<Record<string, number | boolean | string>>,
    readonly chunks: readonly Buffer[],
  ) {}

  get length(): number {
    let total = 0;
    for (const chunk of this.chunks) total += chunk.length;
    return total;
  }
}

/**
 * Sends a read's answer: a JSON representation as usual, an `OctetAnswer` as its bytes with its
 * headers. The one way raw reads are written, so every controller's `@Res()` handler stays one call.
 */
export function sendAnswer(reply: FastifyReply, answer: object): void {
  if (!(answer instanceof OctetAnswer)) {
    reply.send(answer);
    return;
  }
  reply.header('content-type', answer.contentType);
  reply.header('content-length', answer.length);
  for (const [name, value] of Object.entries(answer.headers)) reply.header(name, value);
  sendCorked(reply, answer.chunks);
}

/**
 * Answers with `chunks` back to back as the body, its headers being those already set on
 * `reply`. The chunks are written corked, so they leave in one `writev`: Fastify's stream path
 * pipes them one write at a time (pipe waits for each write to drain), and joining them first
 * would copy every byte once more (bench/README.md has the drain figures).
 * `onResponse` hooks (request log, metrics) still run for the hijacked reply.
 */
function sendCorked(reply: FastifyReply, chunks: readonly Buffer[]): void {
  reply.hijack();
  const res = reply.raw;
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value !== undefined) res.setHeader(name, value);
  }
  res.writeHead(reply.statusCode);
  res.cork();
  for (const chunk of chunks) res.write(chunk);
  res.end();
}
