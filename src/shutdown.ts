import { INestApplication, Logger } from '@nestjs/common';

const SIGNALS = ['SIGTERM', 'SIGINT'];

/**
 * On SIGTERM or SIGINT, Nest closes the application: the registry stops taking work and closes
 * every socket, the HTTP server drains the requests in flight, and the process exits with 0.
 * Should that take longer than `timeoutMs`, the process exits anyway, with 1.
 */
export function enableGracefulShutdown(app: INestApplication, timeoutMs: number): void {
  const logger = new Logger('Shutdown');
  let started = false;
  const armDeadline = (signal: NodeJS.Signals): void => {
    if (started) return;
    started = true;
    logger.log({ msg: `${signal} received: closing sockets and draining requests`, signal, timeoutMs });
    setTimeout(() => {
      logger.error({ msg: `shutdown did not finish within ${timeoutMs} ms: exiting anyway`, timeoutMs });
      process.exit(1);
    }, timeoutMs).unref();
  };
  for (const signal of SIGNALS) process.once(signal, armDeadline);
  // `useProcessExit`: exit 0 once closed, rather than re-raising the signal (which ends the
  // process as killed by it, not as a clean exit).
  app.enableShutdownHooks(SIGNALS, { useProcessExit: true });
}
