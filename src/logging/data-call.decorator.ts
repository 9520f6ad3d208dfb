import { RouteConfig } from '@nestjs/platform-fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set by `@DataCall()`: the request line of a successful call is at `debug`. */
    dataCall?: boolean;
  }
}

/**
 * Marks a call that moves bytes on an open socket (send, read, release). Its successful request
 * line is logged at `debug`, as received chunks are: a busy caller makes thousands of these a
 * second, and at `info` the log grew with the traffic instead of with what happened to the
 * sockets. Failures are logged as every request's are.
 */
export const DataCall = (): MethodDecorator => RouteConfig({ dataCall: true });
