import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';

const INTRODUCTION = `
sockplane drives network sockets over HTTP: open TCP listeners, connect TCP clients, bind UDP
sockets, send bytes or datagrams, read what arrived (a byte log with offsets, datagrams by sequence
number; long-poll with \`waitMs\`), and close them.

**Try the tutorial's echo server:** \`POST /v1/tcp/listeners\` with \`{"port": 0, "mode": "echo"}\`,
note \`local.port\` in the answer, and connect any TCP client to it.

**Try a client:** \`POST /v1/tcp/connections\` with the host and port of a server, then
\`POST /v1/tcp/connections/{id}/send\` and \`GET /v1/tcp/connections/{id}/buffer?waitMs=5000\`.

**Try the tutorial's UDP echo server:** \`POST /v1/udp/sockets\` with \`{"port": 0, "mode": "echo"}\`
and send any datagram to \`local.port\`; it comes straight back.
**Watch it happen:** \`curl -N $API/v1/events\` streams every socket event (Server-Sent Events).

Every error is \`application/problem+json\` with a stable \`code\`.
`.trim();

/** The OpenAPI document, built from the controllers and DTOs of a configured app. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('sockplane')
    .setDescription(INTRODUCTION)
    .setVersion('1.0.0')
    .setLicense('MIT', 'https://opensource.org/licenses/MIT')
    .addTag('TCP listeners', 'Listening TCP sockets (socket → bind → listen → accept)')
    .addTag('TCP connections', 'Accepted and outbound TCP connections: send, read, release, close')
    .addTag('UDP sockets', 'Bound UDP sockets (socket → bind, optionally connect): send datagrams, read them by sequence number, release, close')
    .addTag('Events', 'A Server-Sent Events stream of everything the sockets do: filterable, resumable with Last-Event-ID')
    .addTag('Limits', 'Quotas and limits, with what is in use now')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An API key from SOCKPLANE_API_KEYS (needed when the service has keys configured)' })
    .build();
  return SwaggerModule.createDocument(app, config, {
    operationIdFactory: (_controllerKey, methodKey) => methodKey,
  });
}

/** Serves Swagger UI at /docs and the JSON document at /docs-json. */
export function setupSwaggerUi(app: INestApplication, document: OpenAPIObject): void {
  SwaggerModule.setup('docs', app, document, {
    customSiteTitle: 'sockplane API',
    swaggerOptions: {
      tryItOutEnabled: true,
      displayRequestDuration: true,
      persistAuthorization: true,
      docExpansion: 'list',
    },
  });
}

/** Deterministic JSON: object keys sorted at every level, so the committed file diffs cleanly. */
export function toSortedJson(value: unknown): string {
  return `${JSON.stringify(sortKeys(value), null, 2)}\n`;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  );
}
