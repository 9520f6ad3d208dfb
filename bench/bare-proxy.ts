/**
 * A bare reverse proxy for the cluster scenario: Fastify 5 and `@fastify/reply-from` (what a
 * sockplane node forwards with) in front of one node, with nothing else — no cluster lookup,
 * hooks or security. What a forwarded call costs through it is the cost of the hop itself on
 * this machine. `node dist-bench/bare-proxy.js <target origin> <host> <port>`; prints `ready`.
 */
import replyFrom from '@fastify/reply-from';
import Fastify from 'fastify';

async function main(): Promise<void> {
  const [target, host, port] = process.argv.slice(2);
  const fastify = Fastify();
  await fastify.register(replyFrom, { base: target, disableRequestLogging: true });
  fastify.all('/*', (request, reply) => reply.from(request.url));
  await fastify.listen({ host, port: Number(port) });
  console.log('ready');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
