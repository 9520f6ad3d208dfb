import { Inject, Injectable } from '@nestjs/common';
import { Logger, PARAMS_PROVIDER_TOKEN, Params, PinoLogger } from 'nestjs-pino';

/**
 * Nest's own start-up narration: a line per module initialised and per route mapped. Useful
 * when debugging the wiring, noise before the line an operator looks for (where it listens).
 */
const START_UP_CONTEXTS: ReadonlySet<string> = new Set(['NestFactory', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestApplication']);

/** Nest's report of a failed `listen`; `main.ts` tells the operator what to change instead, in one line. */
const LISTEN_FAILURE = /^Error: listen E[A-Z]+/;

/**
 * nestjs-pino's `Logger`, with Nest's start-up narration and its report of a failed `listen` at
 * `debug`: at the default level, start-up shows where the service listens, or why it cannot.
 */
@Injectable()
export class AppLogger extends Logger {
  constructor(logger: PinoLogger, @Inject(PARAMS_PROVIDER_TOKEN) params: Params) {
    super(logger, params);
  }

  override log(message: unknown, ...optionalParams: unknown[]): void {
    const context = optionalParams.at(-1);
    if (typeof context === 'string' && START_UP_CONTEXTS.has(context)) this.debug(message, ...optionalParams);
    else super.log(message, ...optionalParams);
  }

  override error(message: unknown, ...optionalParams: unknown[]): void {
    if (optionalParams.at(-1) === 'NestApplication' && typeof message === 'string' && LISTEN_FAILURE.test(message)) this.debug(message, ...optionalParams);
    else super.error(message, ...optionalParams);
  }
}
