import { FastifyInstance, HTTPMethods } from 'fastify';

/** The order `Allow` lists methods in. */
const METHOD_ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * The methods each route path takes, as Fastify registered them, so a request with a method its
 * path does not take is answered 405 with `Allow` rather than 404. Wildcard routes (static
 * assets, a CORS preflight route for every path) name no one path, so they are left out.
 */
export class RouteMethods {
  private readonly byPattern = new Map<string, { pattern: RegExp; methods: Set<string> }>();

  /** Records every route registered from now on: call it before the app registers its routes. */
  static collect(fastify: FastifyInstance): RouteMethods {
    const table = new RouteMethods();
    fastify.addHook('onRoute', (route) => table.add(route.url, route.method));
    return table;
  }

  /** The methods routes matching this path (no query) take, in a stable order; none for an unknown path. */
  allowedFor(path: string): string[] {
    const methods = new Set<string>();
    for (const route of this.byPattern.values()) if (route.pattern.test(path)) for (const method of route.methods) methods.add(method);
    return METHOD_ORDER.filter((method) => methods.has(method));
  }

  private add(url: string, method: HTTPMethods | HTTPMethods[]): void {
    if (url.includes('*')) return;
    const route = this.byPattern.get(url) ?? { pattern: patternOf(url), methods: new Set<string>() };
    for (const one of [method].flat()) route.methods.add(one.toUpperCase());
    this.byPattern.set(url, route);
  }
}

/** A route URL (`/v1/tcp/connections/:id/send`) as a regular expression matching the paths it serves. */
function patternOf(url: string): RegExp {
  const source = url
    .split('/')
    .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}$`);
}
