import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger as PinoRootLogger } from 'pino';
import { AppModule } from './app.module';
import { registerAttachRoutes } from './attach/attach-routes';
import { registerConsole } from './attach/console-routes';
import { ProblemFilter, renderClientError, renderRouterError } from './common/problem.filter';
import { registerRawBodyParser } from './common/raw-body';
import { registerValidation } from './common/route-validation';
import { RouteMethods } from './common/route-methods';
import { AppConfig } from './config/app-config';
import { AppLogger } from './logging/app-logger';
import { echoRequestId, requestIdOf } from './logging/request-id';
import { logRequests } from './logging/request-logging';
import { ROOT_LOGGER } from './logging/root-logger';
import { buildOpenApiDocument, setupSwaggerUi } from './openapi/openapi';
import { applyHttpSecurity } from './security/http-security';
import { HostResolver } from './sockets/destination';
import { loadInstanceCa } from './tls/tls.module';

export interface CreateAppOptions {
  /** Replaces DNS for outbound host names (tests). */
  hostResolver?: HostResolver;
}

/**
 * Builds the configured application, ready to listen. `main.ts`, the tests and the OpenAPI
 * export all use it, so what is tested is what runs. Logs go through pino at the configured
 * level (`SOCKPLANE_LOG_LEVEL`; the tests use `silent`); signal handling is `main.ts`'s.
 */
export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: config.bodyLimitBytes,
    // A client must finish sending its request within this time (slow-loris); long-polls are
    // answers, not requests, so they are not cut by it.
    requestTimeout: config.requestTimeoutMs,
    // An HTTP connection silent for this long is closed. Long-polls are silent up to their
    // waitMs and event streams between heartbeats, so it allows the longer of the two and more.
    connectionTimeout: Math.max(config.maxWaitMs, config.eventHeartbeatMs) + config.requestTimeoutMs,
    genReqId: requestIdOf,
    frameworkErrors: renderRouterError,
    clientErrorHandler: renderClientError,
  });
  // Before Nest starts: a configured CA that cannot be used is the operator's to fix, told in one line by main.ts.
  const ca = await loadInstanceCa(config);
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, options.hostResolver, ca), adapter, {
    bodyParser: false,
    // Nest's start-up lines wait for the pino logger, so stdout carries JSON lines only.
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(app.get(AppLogger));
  const fastify = app.getHttpAdapter().getInstance();
  const routes = RouteMethods.collect(fastify);
  // JSON (Fastify's own parser) and raw bytes only: no text or form bodies, which browsers can
  // send cross-origin without a preflight.
  fastify.removeContentTypeParser('text/plain');
  echoRequestId(fastify);
  logRequests(fastify, app.get<PinoRootLogger>(ROOT_LOGGER));
  registerRawBodyParser(fastify, config.bodyLimitBytes);
  registerValidation(fastify);
  await registerAttachRoutes(app);
  await registerConsole(app);
  app.useGlobalFilters(new ProblemFilter(routes));
  await applyHttpSecurity(app, config);
  setupSwaggerUi(app, buildOpenApiDocument(app));
  try {
    await app.init();
  } catch (err) {
    // A start that fails part-way (a scenario file that cannot be applied) closes what it opened.
    await app.close().catch(() => undefined);
    throw err;
  }
  await fastify.ready();
  return app;
}
