import { createApp } from './app.factory';
import { ConfigError, loadConfig } from './config/app-config';

async function bootstrap(): Promise<void> {
  const config = loadConfig(process.env);
  const app = await createApp(config);
  await app.listen({ host: config.host, port: config.port });
}

bootstrap().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? `sockplane: ${err.message}` : err);
  process.exit(1);
});
