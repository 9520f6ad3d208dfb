import { AddressInfo } from 'node:net';
import { createApp } from './app.factory';
import { ConfigError, loadConfig } from './config/app-config';

async function bootstrap(): Promise<void> {
  const config = loadConfig(process.env);
  const app = await createApp(config);
  await app.listen({ host: config.host, port: config.port });
  // The real address (PORT=0 picks a free port), for people, supervisors and tests.
  const { address, port } = app.getHttpServer().address() as AddressInfo;
  console.log(`sockplane listening on http://${address.includes(':') ? `[${address}]` : address}:${port}`);
}

bootstrap().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? `sockplane: ${err.message}` : err);
  process.exit(1);
});
