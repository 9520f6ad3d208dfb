import { Global, Module } from '@nestjs/common';
import { PARAMS_PROVIDER_TOKEN, Params, PinoLogger } from 'nestjs-pino';
import { Logger as PinoRootLogger } from 'pino';
import { AppConfig } from '../config/app-config';
import { AppLogger } from './app-logger';
import { ROOT_LOGGER, createRootLogger } from './root-logger';
import { SocketLogSubscriber } from './socket-log.subscriber';

/**
 * Structured JSON logs, all through one root pino logger: Nest's own logs through nestjs-pino's
 * `Logger` (as `AppLogger`, which keeps Nest's start-up narration at `debug`), the request lines
 * from a Fastify hook (`request-logging.ts`), socket lifecycle lines from the event bus. nestjs-pino's `LoggerModule` is not imported: it always mounts pino-http as
 * Nest middleware, and even bound to no route the middleware engine ran on every request
 * (bench/README.md); its `Logger` needs only the params and a `PinoLogger`.
 */
@Global()
@Module({
  providers: [
    { provide: ROOT_LOGGER, inject: [AppConfig], useFactory: (config: AppConfig) => createRootLogger(config.logLevel) },
    { provide: PARAMS_PROVIDER_TOKEN, inject: [ROOT_LOGGER], useFactory: (logger: PinoRootLogger): Params => ({ pinoHttp: { logger } }) },
    PinoLogger,
    AppLogger,
    SocketLogSubscriber,
  ],
  exports: [ROOT_LOGGER, AppLogger],
})
export class LoggingModule {}
