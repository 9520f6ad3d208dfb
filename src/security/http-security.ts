import underPressure from '@fastify/under-pressure';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { FastifyRequest } from 'fastify';
import { ApiProblem } from '../common/api-problem';
import { AppConfig } from '../config/app-config';
import { HostAllowlist } from './host-allowlist';

/** Probes and scrapers reach these by whatever address their platform uses, and must work under load. */
const OPEN_PATHS = ['/health/', '/metrics'];

function isOpenPath(request: FastifyRequest): boolean {
  const path = request.url.split('?')[0];
  return OPEN_PATHS.some((open) => path === open || (open.endsWith('/') && path.startsWith(open)));
}

/**
 * The HTTP hardening every deployment gets: the Host header allowlist (DNS rebinding), Nest's
 * security headers and cross-origin protection, CORS only for configured origins, and load
 * shedding. Called by `createApp` before `init`, so the hooks cover every route.
 */
export async function applyHttpSecurity(app: NestFastifyApplication, config: AppConfig): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  const hosts = new HostAllowlist(config.host, config.allowedHosts);
  fastify.addHook('onRequest', (request, _reply, done) => {
    if (hosts.allows(request.headers.host) || isOpenPath(request)) {
      done();
      return;
    }
    const host = JSON.stringify(request.headers.host ?? '');
    done(new ApiProblem('HOST_NOT_ALLOWED', `this service does not answer for host ${host}; add it to SOCKPLANE_ALLOWED_HOSTS`));
  });

  // Served over plain HTTP on loopback by default: no HSTS, and no upgrade of Swagger UI's assets to https.
  app.useSecurityHeaders({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } }, strictTransportSecurity: false });
  // Browsers send JSON cross-origin only after a CORS preflight, but octet-stream sends and
  // DELETEs need this: a page on another origin may not change state here.
  app.enableCsrfProtection({ trustedOrigins: [...config.corsOrigins] });
  if (config.corsOrigins.length > 0) {
    app.enableCors({
      origin: [...config.corsOrigins],
      methods: ['GET', 'HEAD', 'POST', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'accept', 'last-event-id'],
      exposedHeaders: ['retry-after', 'www-authenticate', 'sockplane-from', 'sockplane-next-offset', 'sockplane-oldest-offset', 'sockplane-end-offset', 'sockplane-eof'],
      maxAge: 600,
    });
  }

  await app.register(underPressure, {
    maxEventLoopDelay: config.shedEventLoopDelayMs,
    maxHeapUsedBytes: config.shedHeapUsedBytes,
    // Rejecting hands the error to Nest's exception layer: a problem+json 503 with Retry-After.
    pressureHandler: (request, _reply, type, value) => {
      if (isOpenPath(request)) return undefined;
      return Promise.reject(new ApiProblem('OVERLOADED', `the service is overloaded (${type} ${Math.round(Number(value))}); retry later`, { pressure: type }));
    },
  });
}
