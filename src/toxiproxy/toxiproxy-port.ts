import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { FastifyInstance } from 'fastify';
import { once } from 'node:events';
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { AppConfig } from '../config/app-config';

/**
 * Toxiproxy's API at the root of a port of its own (`SOCKPLANE_TOXIPROXY_API`), for clients
 * that take only a host and port. Each request is handed to the main app as `/toxiproxy/…`
 * (Fastify's `inject`), so the same routes, checks (Host allowlist, API keys, CSRF) and errors
 * answer it.
 */
@Injectable()
export class ToxiproxyPort implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ToxiproxyPort.name);
  private server: Server | null = null;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly config: AppConfig,
  ) {}

  /** The bound port; null when the port is off. */
  get port(): number | null {
    const address = this.server?.address();
    return address && typeof address === 'object' ? (address as AddressInfo).port : null;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.toxiproxyApi) return;
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    const server = createServer((request, response) => void this.forward(fastify, request, response));
    server.listen(this.config.toxiproxyPort, this.config.host);
    await once(server, 'listening');
    this.server = server;
    this.logger.log(`Toxiproxy's API listens on ${this.config.host}:${this.port}`);
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async forward(fastify: FastifyInstance, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > this.config.bodyLimitBytes) {
        response.writeHead(413).end();
        return;
      }
      chunks.push(chunk);
    }
    const answer = await fastify.inject({
      method: request.method as 'GET',
      url: `/toxiproxy${request.url ?? '/'}`,
      headers: request.headers,
      payload: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
      remoteAddress: request.socket.remoteAddress,
    });
    const headers = Object.fromEntries(Object.entries(answer.headers).filter(([name]) => name !== 'content-length' && name !== 'transfer-encoding' && name !== 'connection'));
    response.writeHead(answer.statusCode, headers as Record<string, string | string[]>).end(answer.rawPayload);
  }
}
