import { Logger } from '@nestjs/common';
import { AddressInfo } from 'node:net';
import { createApp } from './app.factory';
import { ConfigError, loadConfig } from './config/app-config';
import { enableGracefulShutdown } from './shutdown';

async function bootstrap(): Promise<void> {
  const config = loadConfig(process.env);
  const app = await createApp(config);
  enableGracefulShutdown(app, config.shutdownTimeoutMs);
  await app.listen({ host: config.host, port: config.port });
  // The real port (PORT=0 picks a free one), for people, supervisors and tests.
  const { address, port } = app.getHttpServer().address() as AddressInfo;
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  new Logger('Bootstrap').log({ msg: `listening on ${url}`, address, port, url });
}

bootstrap().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? `sockplane: ${err.message}` : err);
  process.exit(1);
});
