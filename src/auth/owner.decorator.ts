import { ExecutionContext, createParamDecorator } from '@nestjs/common';
import { FastifyRequest } from 'fastify';
import { callerOf } from './api-key.hook';
import { Caller } from './caller';

/** The caller the API key hook identified: whose sockets are created, and which ones are visible. */
export const Owner = createParamDecorator((_: unknown, context: ExecutionContext): Caller => callerOf(context.switchToHttp().getRequest<FastifyRequest>()));
