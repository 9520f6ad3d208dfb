import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { completeProblemExamples } from '../common/api-docs';

const INTRODUCTION = `
sockplane drives network sockets over HTTP: open TCP listeners, connect TCP clients, bind UDP
sockets, send bytes or datagrams, read what arrived (a byte log with offsets, datagrams by
sequence number; long-poll with \`waitMs\`), watch every socket event, and close them. Node's own
\`net\` and \`dgram\` do the socket work.

Every operation below has **Try it out** open: its examples work as they are, except ids, which
come from the answers of earlier calls (a path's \`{id}\` description says which).

**The tutorial's echo server, played by sockplane**
1. \`POST /v1/tcp/listeners\` with the example \`{"host": "127.0.0.1", "port": 0, "mode": "echo"}\`;
   note \`id\` and \`local.port\` in the answer.
2. Connect any TCP client to that port (\`nc 127.0.0.1 <port>\`, the tutorial's \`client.py\`) and
   send a line: it comes straight back.
3. \`GET /v1/tcp/listeners/{id}/connections\` with \`waitMs=5000\` waits for the accepted connection:
   a TCP connection (\`tc_…\`) whose \`counters\` show the bytes echoed. Echoed bytes are not kept;
   a listener in \`buffer\` mode keeps them for \`GET /v1/tcp/connections/{id}/buffer\`.
4. \`POST /v1/tcp/connections/{id}/send\` with that id sends from the server's side to the client.
5. \`DELETE /v1/tcp/listeners/{id}\` with \`closeConnections=true\` cleans up.

**The tutorial's client, played by sockplane**
1. Have a server listening: the listener example *tutorial* (port 65432), or the tutorial's \`server.py\`.
2. \`POST /v1/tcp/connections\` with \`{"host": "127.0.0.1", "port": 65432}\`.
3. \`POST /v1/tcp/connections/{id}/send\` with \`{"data": "Hello, server!"}\`.
4. \`GET /v1/tcp/connections/{id}/buffer\` with \`waitMs=5000\`: the echo is in \`data\`.
5. \`DELETE /v1/tcp/connections/{id}\` closes it (FIN; \`mode=reset\` sends RST).

**The tutorial's UDP echo server and client**
1. \`POST /v1/udp/sockets\` with \`{"type": "udp4", "port": 0, "mode": "echo"}\`: any datagram sent
   to its \`local.port\` comes straight back.
2. \`POST /v1/udp/sockets\` with \`{"type": "udp4"}\` makes a client; \`POST /v1/udp/sockets/{id}/send\`
   with \`{"host": "127.0.0.1", "port": <the echo port>, "data": "ping"}\`, then
   \`GET /v1/udp/sockets/{id}/datagrams?waitMs=5000\` reads the echo and its sender.

**Watch it happen:** \`curl -N $API/v1/events?payload=utf8\` streams every socket event as
Server-Sent Events (Swagger UI cannot show a stream that does not end).

Every error is \`application/problem+json\` with a stable \`code\`; each operation lists the ones it
can answer, with an example.
`.trim();

/** The OpenAPI document, built from the controllers and DTOs of a configured app. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('sockplane')
    .setDescription(INTRODUCTION)
    .setVersion(packageVersion())
    .setLicense('MIT', 'https://opensource.org/licenses/MIT')
    // Relative, so Try it out calls the service that serves the page, whatever its host and port.
    .addServer('/', 'This service')
    // Swagger UI shows the tags in this order: the resources as a newcomer meets them, then operations.
    .addTag('TCP listeners', 'Listening TCP sockets (socket → bind → listen → accept)')
    .addTag('TCP connections', 'Accepted and outbound TCP connections: send, read, release, close')
    .addTag('UDP sockets', 'Bound UDP sockets (socket → bind, optionally connect): send datagrams, read them by sequence number, release, close')
    .addTag('TLS', 'The instance CA and the certificates TLS listeners and clients present: upload, generate, list, delete (keys are write-only)')
    .addTag('Proxies', 'TCP proxies: a listener whose clients are each paired with a connection to an upstream, both halves ordinary connections')
    .addTag('Faults', 'Latency, bandwidth, cuts, resets and more on proxies, listeners and connections: seeded, triggered, expiring')
    .addTag('Reply rules', 'Rules that answer frames and datagrams on listeners, connections and UDP sockets, with match counts: a server (or client) described in data')
    .addTag('Scenario', 'Declarative sets of named listeners and UDP sockets, applied idempotently and exported; mountebank TCP imposters imported')
    .addTag('Events', 'A Server-Sent Events stream of everything the sockets do: filterable, resumable with Last-Event-ID')
    .addTag('Limits', 'Quotas and limits, with what is in use now')
    .addTag('Operations', 'Health probes and Prometheus metrics')
    .addTag('Cluster', 'The nodes of a cluster on Redis: any node answers for any socket (docs/cluster.md)')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An API key from SOCKPLANE_API_KEYS (needed when the service has keys configured)' })
    .build();
  return completeProblemExamples(
    SwaggerModule.createDocument(app, config, {
      operationIdFactory: (_controllerKey, methodKey) => methodKey,
    }),
  );
}

/**
 * The version in the project's package.json: the nearest one above this file, wherever the
 * compiled code runs from (`dist/`, the image's `/app/dist/`, or `src/` under Jest).
 */
function packageVersion(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${__dirname}`);
  }
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
      // A box that narrows the page to the tags matching what is typed.
      filter: true,
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
