import { OpenAPIObject } from '@nestjs/swagger';

interface SchemaLike {
  $ref?: string;
  properties?: Record<string, SchemaLike | undefined>;
  items?: SchemaLike;
  enum?: unknown[];
}

/**
 * Collections whose resources each node keeps to itself, answered by the node that receives
 * the call: TLS certificates live in each node's own store, under each node's own CA.
 */
const NODE_LOCAL = new Set(['/v1/tls/certificates']);

/**
 * The routes whose GET answers a page (`{items, nextCursor}`), read off the OpenAPI document,
 * in Fastify's form (`/v1/tcp/listeners/:id/connections`), each with the `kind`s its items
 * may be. The contract is the one place that says which routes are lists, so a resource added
 * later is gathered across the cluster without the cluster layer naming it.
 */
export function collectionRoutes(document: OpenAPIObject): Map<string, string[]> {
  const schemas = (document.components?.schemas ?? {}) as Record<string, SchemaLike>;
  const resolve = (schema: SchemaLike | undefined): SchemaLike | undefined => (schema?.$ref ? schemas[schema.$ref.replace('#/components/schemas/', '')] : schema);
  const routes = new Map<string, string[]>();
  for (const [path, item] of Object.entries(document.paths)) {
    if (NODE_LOCAL.has(path)) continue;
    const ok = item.get?.responses['200'] as { content?: Record<string, { schema?: SchemaLike }> } | undefined;
    const properties = resolve(ok?.content?.['application/json']?.schema)?.properties ?? {};
    if (!('items' in properties && 'nextCursor' in properties)) continue;
    const kinds = resolve(properties.items?.items)?.properties?.kind?.enum ?? [];
    routes.set(
      path.replace(/\{(\w+)\}/g, ':$1'),
      kinds.filter((kind): kind is string => typeof kind === 'string'),
    );
  }
  return routes;
}
