import { OpenAPIObject } from '@nestjs/swagger';

interface SchemaLike {
  $ref?: string;
  properties?: Record<string, unknown>;
}

/**
 * The routes whose GET answers a page (`{items, nextCursor}`), read off the OpenAPI document,
 * in Fastify's form (`/v1/tcp/listeners/:id/connections`). The contract is the one place that
 * says which routes are lists, so a resource added later is gathered across the cluster
 * without the cluster layer naming it.
 */
export function collectionRoutes(document: OpenAPIObject): Set<string> {
  const schemas = (document.components?.schemas ?? {}) as Record<string, SchemaLike>;
  const resolve = (schema: SchemaLike | undefined): SchemaLike | undefined => (schema?.$ref ? schemas[schema.$ref.replace('#/components/schemas/', '')] : schema);
  const routes = new Set<string>();
  for (const [path, item] of Object.entries(document.paths)) {
    const ok = item.get?.responses['200'] as { content?: Record<string, { schema?: SchemaLike }> } | undefined;
    const properties = resolve(ok?.content?.['application/json']?.schema)?.properties ?? {};
    if ('items' in properties && 'nextCursor' in properties) routes.add(path.replace(/\{(\w+)\}/g, ':$1'));
  }
  return routes;
}
