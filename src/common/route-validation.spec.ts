import Fastify, { FastifyInstance } from 'fastify';
import { ApiProblem } from './api-problem';
import { RawBody, registerRawBodyParser } from './raw-body';
import { registerValidation } from './route-validation';
import { IsBooleanQuery, IsHost, IsIntegerField, IsIntegerQuery, IsLabelSelector, IsPort, IsWaitMs, schemaOf } from './validation';

class ProbeQuery {
  @IsIntegerQuery({ min: 1, max: 100, description: 'A count', default: 10 })
  count!: number;

  @IsBooleanQuery({ description: 'A flag' })
  flag?: boolean;

  @IsLabelSelector()
  label?: string[];

  @IsWaitMs({ description: 'A wait' })
  waitMs!: number;
}

class ProbeBody {
  @IsHost({ description: 'A host' })
  host!: string;

  @IsPort({ allowZero: false, description: 'A port' })
  port!: number;

  @IsIntegerField({ min: 0, max: 5, description: 'A small number', default: 3 })
  small!: number;
}

/** Fastify with the service's validation, answering what it validated, or the problem it raised. */
async function probe(rawBody: boolean): Promise<FastifyInstance> {
  const fastify = Fastify();
  registerRawBodyParser(fastify, 1024);
  registerValidation(fastify);
  fastify.setErrorHandler((err, _request, reply) => {
    if (err instanceof ApiProblem) void reply.status(err.code === 'UNSUPPORTED_MEDIA_TYPE' ? 415 : 400).send({ code: err.code, errors: err.errors });
    else void reply.status(500).send({ message: String(err) });
  });
  fastify.get('/query', { schema: { querystring: schemaOf(ProbeQuery) } }, (request) => request.query);
  fastify.post('/body', { schema: { body: { ...schemaOf(ProbeBody), 'x-raw-body': rawBody } } }, (request) => (request.body instanceof RawBody ? { rawBytes: request.body.length } : request.body));
  await fastify.ready();
  return fastify;
}

describe('route validation', () => {
  let fastify: FastifyInstance;
  beforeAll(async () => {
    fastify = await probe(false);
  });
  afterAll(() => fastify.close());

  it('turns query text into numbers, booleans and lists, and fills defaults', async () => {
    const res = await fastify.inject({ url: '/query?count=7&flag=true&label=a:b' });
    expect(res.json()).toEqual({ count: 7, flag: true, label: ['a:b'], waitMs: 0 });
    expect((await fastify.inject({ url: '/query?label=a:b&label=c:d' })).json()).toMatchObject({ count: 10, label: ['a:b', 'c:d'] });
  });

  it.each(['0x10', '1e1', '%207', '7.0', '', 'seven'])('refuses %j as a whole number', async (text) => {
    const res = await fastify.inject({ url: `/query?count=${text}` });
    expect(res.json()).toEqual({ code: 'VALIDATION_FAILED', errors: [{ field: 'count', message: 'count must be an integer number' }] });
  });

  it('takes any whole waitMs, however long', async () => {
    expect((await fastify.inject({ url: '/query?waitMs=99999999999' })).json()).toMatchObject({ waitMs: 99_999_999_999 });
    expect((await fastify.inject({ url: '/query?waitMs=-1' })).json().errors).toEqual([{ field: 'waitMs', message: 'waitMs must not be less than 0' }]);
  });

  it('names each offending field once, with messages of its own for custom checks', async () => {
    const res = await fastify.inject({ method: 'POST', url: '/body', payload: { host: '127.1', small: 9, colour: 'blue' } });
    expect(res.json().errors).toEqual([
      { field: 'port', message: 'port is required' },
      { field: 'colour', message: 'property colour should not exist' },
      { field: 'host', message: 'host must be an IP address in canonical form or a valid host name' },
      { field: 'small', message: 'small must not be greater than 5' },
    ]);
  });

  it('fills body defaults and refuses what is not a JSON object', async () => {
    expect((await fastify.inject({ method: 'POST', url: '/body', payload: { host: '::1', port: 9 } })).json()).toEqual({ host: '::1', port: 9, small: 3 });
    const array = await fastify.inject({ method: 'POST', url: '/body', payload: [1], headers: { 'content-type': 'application/json' } });
    expect(array.json().errors).toEqual([{ field: 'body', message: 'the body must be a JSON object' }]);
  });

  it('refuses raw bytes unless the operation takes them', async () => {
    const raw = { method: 'POST' as const, url: '/body', payload: Buffer.from('x'), headers: { 'content-type': 'application/octet-stream' } };
    expect((await fastify.inject(raw)).json()).toEqual({ code: 'UNSUPPORTED_MEDIA_TYPE', errors: [] });
    const taking = await probe(true);
    try {
      expect((await taking.inject(raw)).json()).toEqual({ rawBytes: 1 });
    } finally {
      await taking.close();
    }
  });
});
