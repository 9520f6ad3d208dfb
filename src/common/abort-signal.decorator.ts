import { ExecutionContext, createParamDecorator } from '@nestjs/common';
import { FastifyReply } from 'fastify';

/**
 * An AbortSignal that fires when the client goes away before its answer was written, so a
 * long-poll stops waiting for a caller that is no longer there.
 */
export const ClientGone = createParamDecorator((_: unknown, context: ExecutionContext): AbortSignal => {
  const reply = context.switchToHttp().getResponse<FastifyReply>();
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
});
