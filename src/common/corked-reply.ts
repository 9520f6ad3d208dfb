import { FastifyReply } from 'fastify';

/**
 * Answers with `chunks` back to back as the body, its headers being those already set on
 * `reply`. The chunks are written corked, so they leave in one `writev`: Fastify's stream path
 * pipes them one write at a time (pipe waits for each write to drain), and joining them first
 * would copy every byte once more. A 512 MiB drain went from ~790 to ~1,090 MB/s (bench/README.md).
 * `onResponse` hooks (request log, metrics) still run for the hijacked reply.
 */
export function sendCorked(reply: FastifyReply, chunks: readonly Buffer[]): void {
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
