import { Logger } from '@nestjs/common';
import { AddressInfo } from 'node:net';
import { createApp } from './app.factory';
import { ConfigError, loadConfig } from './config/app-config';
import { CaLoadError } from './sockets/tls/tls-error';
import { enableGracefulShutdown } from './shutdown';

/** Why the API could not listen, in the operator's terms, by the errno of `listen`. */
const LISTEN_FAILURES: Record<string, string> = {
  EADDRINUSE: 'the address is in use; set PORT to another port (0 picks a free one)',
  EACCES: 'permission denied (ports below 1024 need privileges); set PORT to 1024 or above (0 picks a free one)',
  EADDRNOTAVAIL: 'no network interface of this machine has that address; set HOST to one of its addresses',
};

/** A failure of the operator's making, told in one line: a bad setting, or an address it cannot listen on. */
class StartupError extends Error {}

function urlOf(address: string, port: number): string {
  return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
}

async function bootstrap(): Promise<void> {
  const config = loadConfig(process.env);
  const app = await createApp(config);
  enableGracefulShutdown(app, config.shutdownTimeoutMs);
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    const reason = LISTEN_FAILURES[(err as NodeJS.ErrnoException).code ?? ''];
    if (reason === undefined) throw err;
    throw new StartupError(`cannot listen on ${urlOf(config.host, config.port)}: ${reason}`);
  }
  // The real port (PORT=0 picks a free one), for people, supervisors and tests.
  const { address, port } = app.getHttpServer().address() as AddressInfo;
  const url = urlOf(address, port);
  const logger = new Logger('Bootstrap');
  logger.log({ msg: `listening on ${url}`, address, port, url });
  logger.log({ msg: `Swagger UI at ${url}/docs`, url: `${url}/docs` });
}

bootstrap().catch((err: unknown) => {
  if (err instanceof CaLoadError) console.error(`sockplane: the TLS instance CA cannot be used: ${err.message}`);
  else console.error(err instanceof ConfigError || err instanceof StartupError ? `sockplane: ${err.message}` : err);
  process.exit(1);
});
