import pino, { Logger, LoggerOptions } from 'pino';
import { LogLevel } from '../config/app-config';

/** Injection token of the one pino logger every log line goes through. */
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

/**
 * JSON lines on stdout (ISO times, level names). A terminal gets pino-pretty instead, when it
 * is installed: it is a dev dependency, so the production image always writes JSON.
 *
 * Written synchronously. pino's default stdout stream writes asynchronously, through libuv's
 * thread pool: at a few lines per request or accepted connection, each line paid a hand-off to a
 * worker thread and back, which cost more CPU than the rest of an accept (bench/README.md).
 * A synchronous line also cannot be lost when the process dies.
 */
export function createRootLogger(level: LogLevel): Logger {
  const options: LoggerOptions = { level, timestamp: pino.stdTimeFunctions.isoTime };
  if (process.stdout.isTTY && isInstalled('pino-pretty')) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l' } } });
  }
  return pino({ ...options, formatters: { level: (label) => ({ level: label }) } }, pino.destination({ dest: 1, sync: true }));
}

function isInstalled(name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}
