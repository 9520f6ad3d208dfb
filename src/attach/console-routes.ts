import fastifyStatic from '@fastify/static';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { FastifySchema } from 'fastify';
import { join } from 'node:path';

/** public/console, from src/attach or dist/attach alike. */
const CONSOLE_ROOT = join(__dirname, '..', '..', 'public', 'console');

/**
 * Serves the live console (plain HTML, CSS and JavaScript, no build step) at `/console/`. It
 * calls the API like any client: with the key typed into it, and a one-time ticket per attach.
 */
export async function registerConsole(app: NestFastifyApplication): Promise<void> {
  await app.register(fastifyStatic, { root: CONSOLE_ROOT, prefix: '/console/', decorateReply: false, index: 'index.html' });
  // `/console` itself goes to `/console/`, so the page's relative links resolve.
  app
    .getHttpAdapter()
    .getInstance()
    .route({ method: 'GET', url: '/console', schema: { hide: true } as FastifySchema, handler: (_request, reply) => reply.redirect('/console/') });
}
