import { OpenAPIObject } from '@nestjs/swagger';
import { collectionRoutes } from './collection-routes';

const pageOf = (schema: string) => ({ get: { responses: { '200': { description: 'a page', content: { 'application/json': { schema: { $ref: `#/components/schemas/${schema}` } } } } } } });

describe('collectionRoutes', () => {
  it('finds the GET routes answering {items, nextCursor}, in Fastify form, with the kinds of their items; certificates stay per node', () => {
    const document = {
      openapi: '3.0.0',
      info: { title: 't', version: '1' },
      paths: {
        '/v1/tcp/listeners': pageOf('ListenerPage'),
        '/v1/tcp/listeners/{id}/connections': pageOf('ConnectionPage'),
        '/v1/tcp/listeners/{id}': pageOf('Listener'),
        '/v1/tls/certificates': pageOf('CertificatePage'),
        '/v1/faults': pageOf('FaultPage'),
      },
      components: {
        schemas: {
          ListenerPage: { properties: { items: { items: { $ref: '#/components/schemas/Listener' } }, nextCursor: {} } },
          ConnectionPage: { properties: { items: { items: { $ref: '#/components/schemas/Connection' } }, nextCursor: {} } },
          CertificatePage: { properties: { items: { items: { $ref: '#/components/schemas/Listener' } }, nextCursor: {} } },
          FaultPage: { properties: { items: { items: { properties: { id: {} } } }, nextCursor: {} } },
          Listener: { properties: { id: {}, kind: { enum: ['tcp-listener'] } } },
          Connection: { properties: { id: {}, kind: { enum: ['tcp-connection'] } } },
        },
      },
    } as unknown as OpenAPIObject;
    expect(collectionRoutes(document)).toEqual(
      new Map([
        ['/v1/tcp/listeners', ['tcp-listener']],
        ['/v1/tcp/listeners/:id/connections', ['tcp-connection']],
        ['/v1/faults', []],
      ]),
    );
  });
});
