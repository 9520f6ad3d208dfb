import { applyDecorators } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiExtraModels,
  ApiParam,
  ApiResponse,
  ExampleObject,
  OpenAPIObject,
  OperationObject,
  ReferenceObject,
  ResponseObject,
  getSchemaPath,
} from '@nestjs/swagger';
import { ApiErrorCode, ERROR_CATALOG, PROBLEM_CONTENT_TYPE, problemType } from './error-catalog';
import { ProblemDto } from './problem.dto';

/**
 * The resources with ids in their paths: where a caller gets an id, and the shape of one (shown
 * only in the problem examples, which stand for answers to a real request).
 */
const RESOURCES = {
  listener: {
    path: '/v1/tcp/listeners',
    name: 'TCP listener',
    example: 'tl_000001a1b2c3d4e5',
    source: 'the `id` in the answer of `POST /v1/tcp/listeners` (or of `GET /v1/tcp/listeners`)',
  },
  connection: {
    path: '/v1/tcp/connections',
    name: 'TCP connection',
    example: 'tc_000002f0e1d2c3b4',
    source:
      'the `id` in the answer of `POST /v1/tcp/connections` for a client; for a connection a listener accepted, ' +
      'an `id` in the answer of `GET /v1/tcp/listeners/{id}/connections` (or of `GET /v1/tcp/connections`)',
  },
  udpSocket: {
    path: '/v1/udp/sockets',
    name: 'UDP socket',
    example: 'us_000001a1b2c3d4e5',
    source: 'the `id` in the answer of `POST /v1/udp/sockets` (or of `GET /v1/udp/sockets`)',
  },
  certificate: {
    path: '/v1/tls/certificates',
    name: 'TLS certificate',
    example: 'ct_000001a1b2c3d4e5',
    source: 'the `id` in the answer of `POST /v1/tls/certificates` (or of `GET /v1/tls/certificates`)',
  },
  tcpProxy: {
    path: '/v1/tcp/proxies',
    name: 'TCP proxy',
    example: 'tp_000001a1b2c3d4e5',
    source: 'the `id` in the answer of `POST /v1/tcp/proxies` (or of `GET /v1/tcp/proxies`)',
  },
  udpProxy: {
    path: '/v1/udp/proxies',
    name: 'UDP proxy',
    example: 'up_000001a1b2c3d4e5',
    source: 'the `id` in the answer of `POST /v1/udp/proxies` (or of `GET /v1/udp/proxies`)',
  },
  fault: {
    path: '/v1/faults',
    name: 'fault',
    example: 'ft_000003a1b2c3d4e5',
    source: 'the `id` in the answer of `POST /v1/faults` (or of `GET /v1/faults`)',
  },
} as const;

export type IdResource = keyof typeof RESOURCES;

/**
 * The `{id}` path parameter of a resource. It has no example: no id exists before its resource
 * is created, and a made-up one filled in by Swagger UI only answered 404. The description,
 * which Swagger UI also shows as the empty field's placeholder, says which answer gives one.
 */
export function ApiIdParam(resource: IdResource): MethodDecorator & ClassDecorator {
  const { name, source } = RESOURCES[resource];
  return ApiParam({ name: 'id', description: `${name} id: ${source}` });
}

/**
 * Example `detail` texts, so each documented error shows what a caller would really get.
 * `{resource}` and `{id}` name the operation's own resource; `completeProblemExamples` fills them.
 */
const EXAMPLE_DETAILS: Partial<Record<ApiErrorCode, string>> = {
  VALIDATION_FAILED: 'port must not be greater than 65535',
  MALFORMED_REQUEST: 'Body is not valid JSON but content-type is set to \'application/json\'',
  INVALID_PAYLOAD: 'data is not valid hex: it needs an even number of digits 0-9, a-f',
  SOCKET_NOT_FOUND: 'no {resource} with id {id}',
  SOCKET_CLOSED: '{resource} {id} is closed: it can no longer send',
  ADDRESS_IN_USE: 'listen on 127.0.0.1:65432 failed: listen EADDRINUSE: address already in use 127.0.0.1:65432',
  CONNECTION_REFUSED: 'connect to 127.0.0.1:65432 failed: connect ECONNREFUSED 127.0.0.1:65432',
  CONNECT_TIMEOUT: 'connect to 192.0.2.1:80 timed out after 5000 ms',
  TLS_CERT_UNTRUSTED: "the server's certificate is not trusted: unable to verify the first certificate",
  TLS_HOSTNAME_MISMATCH: "the server's certificate is not for api.example.test: Hostname/IP does not match certificate's altnames: Host: api.example.test. is not in the cert's altnames: DNS:other.example.test",
  TLS_HANDSHAKE_FAILED: 'the TLS handshake with 127.0.0.1 failed: SSL routines:ssl3_get_record:wrong version number',
  DATAGRAM_TOO_LARGE: 'a udp4 datagram carries at most 65507 bytes; this one has 70000',
  INVALID_DESTINATION: 'socket {id} has no default peer: give host and port',
  OFFSET_RELEASED: 'bytes before offset 14 were released; 0 is no longer held',
  OFFSET_OUT_OF_RANGE: 'offset 99 is past the last received byte (endOffset 14)',
  NOT_READY: 'not ready (socketQuota: socket quota exhausted)',
  WRITE_BUFFER_FULL: 'the peer is not reading: 16777216 bytes are already queued and the limit is 16777216',
  POLICY_DENIED:
    'connect to 169.254.169.254:80 is refused by the network policy: 169.254.0.0/16 (built-in rule: IPv4 link-local, where cloud metadata services (169.254.169.254) answer)',
  QUOTA_EXCEEDED: 'the service holds 20000 sockets, its limit',
  UNAUTHORIZED: 'this operation needs an API key: send Authorization: Bearer <key>',
  HOST_NOT_ALLOWED: 'this service does not answer for host "evil.example"; add it to SOCKPLANE_ALLOWED_HOSTS',
  TOO_MANY_OPEN_FILES: 'listen on 127.0.0.1:0 failed: listen EMFILE: too many open files',
  FAULT_NOT_FOUND: 'no fault with id {id}',
  FAULT_TARGET_NOT_FOUND: 'no TCP proxy, UDP proxy, listener or open connection with id tp_000001a1b2c3d4e5 to put a fault on',
  FAULT_NOT_APPLICABLE: 'refuse turns new connections away: target a listener or a proxy, not connection tc_000002f0e1d2c3b4',
  FAULT_EXISTS: 'tp_000001a1b2c3d4e5 has a fault named slow-replies already',
  PROXY_EXISTS: 'a proxy named redis exists already',
  NAME_IN_USE: 'a TCP listener named smtp is already open',
};

/**
 * Documents the problem+json answers of an operation, grouped by status, one example per code.
 * A method decorator runs before `@Controller` gives the route its path, so the examples' `instance`
 * (and the resource a detail names) are completed by `completeProblemExamples` on the built document.
 */
export function ApiProblems(...codes: ApiErrorCode[]): MethodDecorator & ClassDecorator {
  const byStatus = new Map<number, ApiErrorCode[]>();
  for (const code of codes) {
    const status = ERROR_CATALOG[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses = [...byStatus].map(([status, group]) =>
    ApiResponse({
      status,
      description: group.map((code) => `\`${code}\`: ${ERROR_CATALOG[code].title}`).join('; '),
      content: {
        [PROBLEM_CONTENT_TYPE]: {
          schema: { $ref: getSchemaPath(ProblemDto) },
          examples: Object.fromEntries(
            group.map((code) => [
              code,
              {
                summary: ERROR_CATALOG[code].title,
                value: {
                  type: problemType(code),
                  title: ERROR_CATALOG[code].title,
                  status,
                  detail: EXAMPLE_DETAILS[code] ?? ERROR_CATALOG[code].title,
                  code,
                },
              },
            ]),
          ),
        },
      },
    }),
  );
  return applyDecorators(ApiExtraModels(ProblemDto), ...responses);
}

interface ProblemExample {
  detail: string;
  instance?: string;
}

/**
 * Gives every problem+json example its operation's path as `instance` (with an id of the
 * resource's shape, as the service would answer) and names the operation's resource in `detail`.
 */
export function completeProblemExamples(document: OpenAPIObject): OpenAPIObject {
  for (const [path, item] of Object.entries(document.paths)) {
    const resource = Object.values(RESOURCES).find((r) => path.startsWith(r.path));
    for (const operation of Object.values(item).filter(isOperation)) {
      // Class-level decorators (e.g. `ApiKeyAuth`) share their response objects between operations.
      operation.responses = structuredClone(operation.responses);
      const instance = resource ? path.replaceAll('{id}', resource.example) : path;
      for (const response of Object.values(operation.responses ?? {}) as (ResponseObject | ReferenceObject)[]) {
        const examples = 'content' in response ? response.content?.[PROBLEM_CONTENT_TYPE]?.examples : undefined;
        for (const example of Object.values(examples ?? {}) as ExampleObject[]) {
          const value = example.value as ProblemExample;
          value.instance = instance;
          value.detail = value.detail.replaceAll('{resource}', resource?.name ?? 'socket').replaceAll('{id}', resource?.example ?? '{id}');
        }
      }
    }
  }
  return document;
}

function isOperation(value: unknown): value is OperationObject {
  return typeof value === 'object' && value !== null && 'responses' in value;
}

/**
 * Marks a `/v1` controller as needing an API key (Swagger UI's Authorize button), with the
 * answers every guarded operation can give before it runs.
 */
export function ApiKeyAuth(): ClassDecorator {
  return applyDecorators(ApiBearerAuth(), ApiProblems('UNAUTHORIZED', 'HOST_NOT_ALLOWED'));
}
