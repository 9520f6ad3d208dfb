import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { ApiErrorCode, ERROR_CATALOG, PROBLEM_CONTENT_TYPE, problemType } from './error-catalog';
import { ProblemDto } from './problem.dto';

/** Example `detail` texts, so each documented error shows what a caller would really get. */
const EXAMPLE_DETAILS: Partial<Record<ApiErrorCode, string>> = {
  VALIDATION_FAILED: 'port must not be greater than 65535',
  MALFORMED_REQUEST: 'Body is not valid JSON but content-type is set to \'application/json\'',
  INVALID_PAYLOAD: 'data is not valid hex: it needs an even number of digits 0-9, a-f',
  SOCKET_NOT_FOUND: 'no TCP connection with id tc_00000aabcdef0123',
  SOCKET_CLOSED: 'connection tc_00000aabcdef0123 is closed: it can no longer send',
  ADDRESS_IN_USE: 'listen on 127.0.0.1:65432 failed: listen EADDRINUSE: address already in use 127.0.0.1:65432',
  CONNECTION_REFUSED: 'connect to 127.0.0.1:65432 failed: connect ECONNREFUSED 127.0.0.1:65432',
  CONNECT_TIMEOUT: 'connect to 192.0.2.1:80 timed out after 5000 ms',
  DATAGRAM_TOO_LARGE: 'a udp4 datagram carries at most 65507 bytes; this one has 70000',
  INVALID_DESTINATION: 'socket us_000001a1b2c3d4e5 has no default peer: give host and port',
  OFFSET_RELEASED: 'bytes before offset 14 were released; 0 is no longer held',
  OFFSET_OUT_OF_RANGE: 'offset 99 is past the last received byte (endOffset 14)',
  WRITE_BUFFER_FULL: 'the peer is not reading: 16777216 bytes are already queued and the limit is 16777216',
  POLICY_DENIED:
    'connect to 169.254.169.254:80 is refused by the network policy: 169.254.0.0/16 (built-in rule: IPv4 link-local, where cloud metadata services (169.254.169.254) answer)',
  QUOTA_EXCEEDED: 'the service holds 20000 sockets, its limit',
  UNAUTHORIZED: 'this operation needs an API key: send Authorization: Bearer <key>',
  HOST_NOT_ALLOWED: 'this service does not answer for host "evil.example"; add it to SOCKPLANE_ALLOWED_HOSTS',
  TOO_MANY_OPEN_FILES: 'listen on 127.0.0.1:0 failed: listen EMFILE: too many open files',
};

/** Documents the problem+json answers of an operation, grouped by status, one example per code. */
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
                  instance: '/v1/tcp/connections/tc_00000aabcdef0123',
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

/**
 * Marks a `/v1` controller as needing an API key (Swagger UI's Authorize button), with the
 * answers every guarded operation can give before it runs.
 */
export function ApiKeyAuth(): ClassDecorator {
  return applyDecorators(ApiBearerAuth(), ApiProblems('UNAUTHORIZED', 'HOST_NOT_ALLOWED'));
}
