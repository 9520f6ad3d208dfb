import { Global, Module, RequestMethod } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { ROOT_LOGGER, createRootLogger } from './root-logger';
import { SocketLogSubscriber } from './socket-log.subscriber';

/** The root pino logger, built once from the configured level. */
@Global()
@Module({
  providers: [{ provide: ROOT_LOGGER, inject: [AppConfig], useFactory: (config: AppConfig) => createRootLogger(config.logLevel) }],
  exports: [ROOT_LOGGER],
})
class RootLoggerModule {}

/**
 * Structured JSON logs: Nest's own logs through nestjs-pino, the request lines from a Fastify
 * hook, socket lifecycle lines from the event bus; all through one root logger.
 */
@Module({
  imports: [
    RootLoggerModule,
    LoggerModule.forRootAsync({
      inject: [ROOT_LOGGER],
      useFactory: (logger: Logger) => ({
        pinoHttp: { logger },
        // Nest's own logs only: requests are logged by a Fastify hook (`request-logging.ts`), so
        // the per-request middleware is bound to no route.
        exclude: [{ path: '{*splat}', method: RequestMethod.ALL }],
      }),
    }),
  ],
  providers: [SocketLogSubscriber],
})
export class LoggingModule {}
