import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Server } from 'node:http';
import request from 'supertest';
import TestAgent from 'supertest/lib/agent';
import { createApp } from '../../src/app.factory';
import { loadConfig } from '../../src/config/app-config';

export interface TestApp {
  app: NestFastifyApplication;
  http: TestAgent;
  close(): Promise<void>;
}

/**
 * The production app (same factory as main.ts) on an in-process HTTP server; `env` overrides
 * settings by their variable names, as an operator would.
 */
export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const app = await createApp(loadConfig({ SOCKPLANE_CLOSE_LINGER_MS: '500', SOCKPLANE_LOG_LEVEL: 'silent', ...env }));
  const server = app.getHttpServer() as Server;
  return {
    app,
    http: request.agent(server),
    close: () => app.close(),
  };
}
