import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Stream } from 'node:stream';
import request from 'supertest';
import TestAgent from 'supertest/lib/agent';
import { CreateAppOptions, createApp } from '../../src/app.factory';
import { loadConfig } from '../../src/config/app-config';

export interface TestApp {
  app: NestFastifyApplication;
  http: TestAgent;
  /** Listens on 127.0.0.1 on a free port, for clients that need a real one (event streams); returns it. */
  listen(): Promise<number>;
  close(): Promise<void>;
}

/**
 * The production app (same factory as main.ts) on an in-process HTTP server; `env` overrides
 * settings by their variable names, as an operator would, and `hostResolver` stands in for DNS.
 */
export async function startTestApp(env: Record<string, string> = {}, options: CreateAppOptions = {}): Promise<TestApp> {
  // Load shedding by event-loop delay is off: Jest compiling a test file stalls the loop for
  // longer than any sane threshold. The test of shedding turns on its own trigger.
  const defaults = { SOCKPLANE_CLOSE_LINGER_MS: '500', SOCKPLANE_LOG_LEVEL: 'silent', SOCKPLANE_SHED_EVENT_LOOP_DELAY_MS: '0' };
  const app = await createApp(loadConfig({ ...defaults, ...env }), options);
  const server = app.getHttpServer() as Server;
  return {
    app,
    http: request.agent(server),
    listen: async () => {
      await app.listen(0, '127.0.0.1');
      return (server.address() as AddressInfo).port;
    },
    close: () => app.close(),
  };
}

/** A supertest body parser that keeps an answer's body as raw bytes (octet-stream reads). */
export function rawBytes(response: Stream, done: (err: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  response.on('data', (chunk: Buffer) => chunks.push(chunk));
  response.on('end', () => done(null, Buffer.concat(chunks)));
}
