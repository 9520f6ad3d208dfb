import { ArgumentMetadata, ValidationPipe } from '@nestjs/common';
import { ClassConstructor, plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import fastify from 'fastify';
import { PageQueryDto } from '../../src/common/dto/page-query.dto';
import { createValidationPipe } from '../../src/common/validation';
import { ValidationPlan, isFlatPlainObject } from '../../src/common/validation-plan';
import { StreamEventsQueryDto } from '../../src/events/dto/stream-events-query.dto';
import { CreateConnectionDto } from '../../src/tcp/dto/create-connection.dto';
import { CreateListenerDto } from '../../src/tcp/dto/create-listener.dto';
import { AcceptedQueryDto, DeleteConnectionQueryDto, DeleteListenerQueryDto, ListConnectionsQueryDto, ListListenersQueryDto } from '../../src/tcp/dto/list-queries.dto';
import { ReadBufferQueryDto, ReleaseBufferQueryDto } from '../../src/tcp/dto/read-buffer.dto';
import { SendDataDto, SendQueryDto } from '../../src/tcp/dto/send.dto';
import { CreateUdpSocketDto } from '../../src/udp/dto/create-udp-socket.dto';
import { ReadDatagramsQueryDto, ReleaseDatagramsQueryDto } from '../../src/udp/dto/read-datagrams.dto';
import { SendDatagramDto, SendDatagramQueryDto } from '../../src/udp/dto/send-datagram.dto';

type Case = [string, ClassConstructor<object>, 'query' | 'body', Record<string, unknown>];

/** Valid and invalid inputs of the DTOs on the routes, as HTTP delivers them (query values are strings). */
const CASES: Case[] = [
  ['empty send query', SendQueryDto, 'query', {}],
  ['send query end=true', SendQueryDto, 'query', { end: 'true' }],
  ['send query end=yes', SendQueryDto, 'query', { end: 'yes' }],
  ['send query unknown field', SendQueryDto, 'query', { bogus: '1' }],
  ['send body', SendDataDto, 'body', { data: 'hello', encoding: 'utf8' }],
  ['send body with end', SendDataDto, 'body', { data: '6869', encoding: 'hex', end: true }],
  ['send body without data', SendDataDto, 'body', { encoding: 'utf8' }],
  ['send body, data a number', SendDataDto, 'body', { data: 5 }],
  ['send body, bad encoding', SendDataDto, 'body', { data: 'x', encoding: 'latin1' }],
  ['send body, end a string', SendDataDto, 'body', { data: 'x', end: 'true' }],
  ['read query', ReadBufferQueryDto, 'query', { from: '0', maxBytes: '65536', minBytes: '64', waitMs: '5000' }],
  ['read query with until', ReadBufferQueryDto, 'query', { until: '\n', untilEncoding: 'utf8', encoding: 'base64' }],
  ['read query, negative from', ReadBufferQueryDto, 'query', { from: '-1' }],
  ['read query, fractional waitMs', ReadBufferQueryDto, 'query', { waitMs: '1.5' }],
  ['read query, waitMs too large', ReadBufferQueryDto, 'query', { waitMs: '3600001' }],
  ['read query, repeated from', ReadBufferQueryDto, 'query', { from: ['1', '2'] }],
  ['read query, empty until', ReadBufferQueryDto, 'query', { until: '' }],
  ['release query', ReleaseBufferQueryDto, 'query', { upTo: '14' }],
  ['release query without upTo', ReleaseBufferQueryDto, 'query', {}],
  ['release query, upTo text', ReleaseBufferQueryDto, 'query', { upTo: 'abc' }],
  ['page query', PageQueryDto, 'query', { limit: '100', cursor: 'czE', label: 'suite:tutorial' }],
  ['page query, labels', PageQueryDto, 'query', { label: ['a:b', 'c:d'] }],
  ['page query, bad label', PageQueryDto, 'query', { label: 'nocolon' }],
  ['page query, limit 0', PageQueryDto, 'query', { limit: '0' }],
  ['connection list', ListConnectionsQueryDto, 'query', { listenerId: 'tl_000001abc', direction: 'inbound', state: 'open', limit: '10' }],
  ['connection list, bad listener id', ListConnectionsQueryDto, 'query', { listenerId: 'tc_000001abc' }],
  ['connection list, bad direction', ListConnectionsQueryDto, 'query', { direction: 'sideways' }],
  ['listener list', ListListenersQueryDto, 'query', { state: 'listening' }],
  ['accepted query', AcceptedQueryDto, 'query', { after: '3', waitMs: '1000', limit: '1' }],
  ['delete listener query', DeleteListenerQueryDto, 'query', { closeConnections: 'true' }],
  ['delete connection query', DeleteConnectionQueryDto, 'query', { mode: 'reset' }],
  ['delete connection, bad mode', DeleteConnectionQueryDto, 'query', { mode: 'abort' }],
  ['create listener', CreateListenerDto, 'body', { host: '127.0.0.1', port: 0, backlog: 4096, mode: 'echo' }],
  ['create listener, port too large', CreateListenerDto, 'body', { port: 70000 }],
  ['create listener, host name', CreateListenerDto, 'body', { host: 'example.com' }],
  ['create listener, fractional backlog', CreateListenerDto, 'body', { backlog: 1.5 }],
  ['create connection', CreateConnectionDto, 'body', { host: '127.0.0.1', port: 8080, noDelay: true }],
  ['create connection, no port', CreateConnectionDto, 'body', { host: '127.0.0.1' }],
  ['create connection, non-canonical host', CreateConnectionDto, 'body', { host: '127.1', port: 80 }],
  ['udp read query', ReadDatagramsQueryDto, 'query', { from: '0', max: '1000', waitMs: '100', encoding: 'base64' }],
  ['udp read query, max 0', ReadDatagramsQueryDto, 'query', { max: '0' }],
  ['udp read query, batch', ReadDatagramsQueryDto, 'query', { max: '1000', minDatagrams: '250', waitMs: '100' }],
  ['udp read query, minDatagrams 0', ReadDatagramsQueryDto, 'query', { minDatagrams: '0' }],
  ['udp release query', ReleaseDatagramsQueryDto, 'query', { upTo: '7' }],
  ['udp send body', SendDatagramDto, 'body', { host: '127.0.0.1', port: 9, data: 'ping' }],
  ['udp send body, port 0', SendDatagramDto, 'body', { host: '127.0.0.1', port: 0, data: 'ping' }],
  ['udp send query', SendDatagramQueryDto, 'query', { host: '::1', port: '9' }],
  ['udp create', CreateUdpSocketDto, 'body', { type: 'udp4', port: 0, recvBufferSize: 4194304 }],
  ['event stream query', StreamEventsQueryDto, 'query', { type: ['connection.*', 'listener.bound'], kind: 'tcp-connection', payload: 'hex' }],
  ['event stream query, bad kind', StreamEventsQueryDto, 'query', { kind: 'pipe' }],
];

/** What `createValidationPipe()` was before its fast path: the same options on a plain ValidationPipe. */
const reference = new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true, exceptionFactory: (errors) => errors });

async function outcome(pipe: ValidationPipe, value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
  try {
    return { value: await pipe.transform(value, metadata) };
  } catch (err) {
    return { error: err };
  }
}

function fieldsOf(result: unknown): string[] {
  const { error } = result as { error?: { errors?: { field: string }[] } | { property: string }[] };
  if (!error) return [];
  return Array.isArray(error) ? error.map((e) => e.property).sort() : [...new Set((error.errors ?? []).map((e) => e.field.split('.')[0]))].sort();
}

describe('ValidationPlan', () => {
  it.each(CASES)('agrees with class-validator on %s', async (_name, metatype, _type, value) => {
    const entity = plainToInstance(metatype, value) as Record<string, unknown>;
    const errors = await validate(entity, { whitelist: true, forbidNonWhitelisted: true });
    const plan = ValidationPlan.for(metatype);
    // A plan may decline a valid value (the full path then answers), never accept an invalid one.
    if (plan?.accepts(entity)) expect(errors).toEqual([]);
    if (plan && errors.length === 0) expect(plan.accepts(entity)).toBe(true);
  });

  it('has a plan for every flat DTO and none for DTOs with nested objects', () => {
    for (const [, metatype] of CASES.filter(([, m]) => m !== CreateUdpSocketDto)) expect(ValidationPlan.for(metatype)).not.toBeNull();
    expect(ValidationPlan.for(CreateUdpSocketDto)).toBeNull();
  });
});

/** A query as Fastify hands it to Nest: parsed by its own query parser, not a plain object. */
async function asFastifyQuery(value: Record<string, unknown>): Promise<unknown> {
  const app = fastify();
  let query: unknown;
  app.get('/', (request) => {
    query = request.query;
    return {};
  });
  await app.inject({ url: '/', query: value as Record<string, string | string[]> });
  await app.close();
  return query;
}

describe('createValidationPipe', () => {
  const pipe = createValidationPipe();

  it.each(CASES)('answers %s as the plain ValidationPipe does', async (_name, metatype, type, value) => {
    const metadata: ArgumentMetadata = { type, metatype, data: undefined };
    const [expected, actual] = [await outcome(reference, structuredClone(value), metadata), await outcome(pipe, structuredClone(value), metadata)];
    const expectedValue = (expected as { value?: object }).value;
    if (expectedValue) {
      const actualValue = (actual as { value?: object }).value;
      expect(actualValue).toEqual(expectedValue);
      expect(Object.getPrototypeOf(actualValue)).toBe(metatype.prototype);
    } else {
      expect(fieldsOf(actual)).toEqual(fieldsOf(expected));
      expect(fieldsOf(actual).length).toBeGreaterThan(0);
    }
  });
});

describe('the fast path on queries as Fastify parses them', () => {
  const queries = CASES.filter(([, , type]) => type === 'query');

  it.each(queries)('takes %s', async (_name, metatype, _type, value) => {
    const query = await asFastifyQuery(value);
    expect(isFlatPlainObject(query)).toBe(true);
    const metadata: ArgumentMetadata = { type: 'query', metatype, data: undefined };
    const [expected, actual] = [await outcome(reference, await asFastifyQuery(value), metadata), await outcome(createValidationPipe(), query, metadata)];
    expect(fieldsOf(actual)).toEqual(fieldsOf(expected));
    expect((actual as { value?: object }).value).toEqual((expected as { value?: object }).value);
  });
});

describe('ValidationPlan.instantiate', () => {
  const planned = CASES.filter(([, metatype]) => ValidationPlan.for(metatype) !== null);

  it.each(planned)('builds %s as plainToInstance does, @Transforms included', async (_name, metatype, type, value) => {
    const input = (type === 'query' ? await asFastifyQuery(value) : structuredClone(value)) as Record<string, unknown>;
    const plan = ValidationPlan.for(metatype) as ValidationPlan;
    expect(plan.instantiates).toBe(true);
    const built = plan.instantiate(input);
    expect(built).toEqual(plainToInstance(metatype, input));
    expect(Object.getPrototypeOf(built)).toBe(metatype.prototype);
  });
});

describe('isFlatPlainObject', () => {
  const flat: unknown[] = [{}, { a: '1', b: 2, c: true, d: ['x', 'y'] }, Object.assign(Object.create(null) as object, { a: '1' })];
  const notFlat: unknown[] = [null, 'x', [], { a: { b: 1 } }, { a: null }, { a: [1] }, { constructor: 'x' }, { a: Buffer.from('x') }, new Date()];

  it.each(flat.map((value) => [value]))('takes %j', (value) => expect(isFlatPlainObject(value)).toBe(true));

  it.each(notFlat.map((value) => [value]))('leaves %j to the full path', (value) => expect(isFlatPlainObject(value)).toBe(false));

  it('leaves sparse arrays to the full path', () => {
    const sparse: string[] = [];
    sparse[2] = 'x';
    expect(isFlatPlainObject({ a: sparse })).toBe(false);
  });
});
