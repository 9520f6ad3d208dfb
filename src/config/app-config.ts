import { isIP } from 'node:net';

/** Log levels, quietest last; `silent` logs nothing (the tests use it). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Every setting, typed. Built once from the environment at start-up by `loadConfig`; a class
 * so Nest can inject it by type.
 */
export class AppConfig {
  readonly host!: string;
  readonly logLevel!: LogLevel;
  readonly port!: number;
  readonly maxBufferedBytes!: number;
  readonly maxPendingWriteBytes!: number;
  readonly maxSockets!: number;
  readonly maxWaitMs!: number;
  readonly maxReadBytes!: number;
  readonly bodyLimitBytes!: number;
  readonly closeLingerMs!: number;
  readonly closedRetentionMs!: number;
  readonly udpMaxDatagrams!: number;
  readonly udpMaxBufferedBytes!: number;
  readonly eventHistory!: number;
  readonly eventHistoryPayloadBytes!: number;
  readonly eventPayloadMaxBytes!: number;
  readonly eventQueue!: number;
  readonly eventHeartbeatMs!: number;
  readonly maxEventLoopLagMs!: number;
  readonly shutdownTimeoutMs!: number;
}

/** One row of the README's configuration table. */
export interface SettingDescription {
  variable: string;
  default: string;
  meaning: string;
}

interface IntegerSetting {
  variable: string;
  key: Exclude<keyof AppConfig, 'host' | 'logLevel'>;
  default: number;
  min: number;
  max: number;
  meaning: string;
}

const MiB = 1024 * 1024;

/** The integer settings: name, default, bounds and meaning. */
export const INTEGER_SETTINGS: readonly IntegerSetting[] = [
  { variable: 'PORT', key: 'port', default: 3000, min: 0, max: 65535, meaning: 'HTTP port of the API (0 = any free port)' },
  {
    variable: 'SOCKPLANE_MAX_BUFFERED_BYTES',
    key: 'maxBufferedBytes',
    default: 4 * MiB,
    min: 1024,
    max: 1024 * MiB,
    meaning: 'Unreleased received bytes a TCP connection holds before it stops reading (the peer is pushed back)',
  },
  {
    variable: 'SOCKPLANE_MAX_PENDING_WRITE_BYTES',
    key: 'maxPendingWriteBytes',
    default: 16 * MiB,
    min: 1024,
    max: 1024 * MiB,
    meaning: 'Bytes queued towards a peer that does not read before `send` answers 429 WRITE_BUFFER_FULL',
  },
  { variable: 'SOCKPLANE_MAX_SOCKETS', key: 'maxSockets', default: 20000, min: 1, max: 1_000_000, meaning: 'Sockets (listeners, connections, UDP sockets) held at once' },
  { variable: 'SOCKPLANE_MAX_WAIT_MS', key: 'maxWaitMs', default: 60000, min: 0, max: 3_600_000, meaning: 'Longest `waitMs` a long-poll may ask for' },
  { variable: 'SOCKPLANE_MAX_READ_BYTES', key: 'maxReadBytes', default: 16 * MiB, min: 1024, max: 1024 * MiB, meaning: 'Largest `maxBytes` one buffer read may ask for' },
  { variable: 'SOCKPLANE_BODY_LIMIT_BYTES', key: 'bodyLimitBytes', default: 16 * MiB, min: 1024, max: 1024 * MiB, meaning: 'Largest HTTP request body (larger ones answer 413)' },
  { variable: 'SOCKPLANE_CLOSE_LINGER_MS', key: 'closeLingerMs', default: 2000, min: 0, max: 600_000, meaning: "How long a graceful close waits for the peer's FIN before it resets" },
  {
    variable: 'SOCKPLANE_CLOSED_RETENTION_MS',
    key: 'closedRetentionMs',
    default: 300_000,
    min: 0,
    max: 86_400_000,
    meaning: 'How long a connection that closed on its own stays readable before it is forgotten',
  },
  {
    variable: 'SOCKPLANE_UDP_MAX_DATAGRAMS',
    key: 'udpMaxDatagrams',
    default: 10_000,
    min: 1,
    max: 10_000_000,
    meaning: 'Unreleased datagrams a UDP socket holds; more are dropped and counted (UDP cannot push back)',
  },
  {
    variable: 'SOCKPLANE_UDP_MAX_BUFFERED_BYTES',
    key: 'udpMaxBufferedBytes',
    default: 4 * MiB,
    min: 1024,
    max: 1024 * MiB,
    meaning: 'Unreleased datagram bytes a UDP socket holds; a datagram that would go past it is dropped and counted',
  },
  {
    variable: 'SOCKPLANE_EVENT_HISTORY',
    key: 'eventHistory',
    default: 10_000,
    min: 0,
    max: 1_000_000,
    meaning: 'Recent events kept so an event stream can resume with `Last-Event-ID` (older ones are reported as a `gap`)',
  },
  {
    variable: 'SOCKPLANE_EVENT_HISTORY_PAYLOAD_BYTES',
    key: 'eventHistoryPayloadBytes',
    default: 8 * MiB,
    min: 0,
    max: 1024 * MiB,
    meaning: 'Received bytes the event history keeps for resumed streams that ask for payloads; the oldest payloads go first',
  },
  {
    variable: 'SOCKPLANE_EVENT_PAYLOAD_MAX_BYTES',
    key: 'eventPayloadMaxBytes',
    default: 65_536,
    min: 1,
    max: 16 * MiB,
    meaning: 'Most payload bytes one event carries (caps `payloadMaxBytes`; longer payloads are truncated)',
  },
  {
    variable: 'SOCKPLANE_EVENT_QUEUE',
    key: 'eventQueue',
    default: 1000,
    min: 1,
    max: 1_000_000,
    meaning: 'Events queued for an event stream that reads slower than events happen; beyond it events are skipped and reported as a `gap`',
  },
  { variable: 'SOCKPLANE_EVENT_HEARTBEAT_MS', key: 'eventHeartbeatMs', default: 15_000, min: 10, max: 3_600_000, meaning: 'Interval of `: ping` comments on idle event streams' },
  {
    variable: 'SOCKPLANE_MAX_EVENT_LOOP_LAG_MS',
    key: 'maxEventLoopLagMs',
    default: 1000,
    min: 1,
    max: 600_000,
    meaning: 'Event-loop stall (longest in the last 10 to 20 s) above which `/health/ready` answers 503',
  },
  {
    variable: 'SOCKPLANE_SHUTDOWN_TIMEOUT_MS',
    key: 'shutdownTimeoutMs',
    default: 8000,
    min: 0,
    max: 600_000,
    meaning: 'After SIGTERM or SIGINT, how long draining requests and closing sockets may take before the process exits anyway (code 1)',
  },
];

const HOST_SETTING: SettingDescription = { variable: 'HOST', default: '127.0.0.1', meaning: 'Address the HTTP API binds (an IP address or `localhost`)' };
const LOG_LEVEL_SETTING: SettingDescription = {
  variable: 'SOCKPLANE_LOG_LEVEL',
  default: 'info',
  meaning: `Least severe log level written: ${LOG_LEVELS.map((level) => `\`${level}\``).join(', ')}`,
};

/** Every setting in the README table's order: the table is checked against this list. */
export const SETTINGS: readonly SettingDescription[] = [
  HOST_SETTING,
  ...INTEGER_SETTINGS.map((s) => ({ variable: s.variable, default: String(s.default), meaning: s.meaning })),
  LOG_LEVEL_SETTING,
];

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Validates the environment into an `AppConfig`; a bad value throws naming its variable. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): AppConfig {
  const host = env.HOST?.trim() || HOST_SETTING.default;
  if (host !== 'localhost' && isIP(host) === 0) {
    throw new ConfigError(`HOST must be an IP address or "localhost", got "${host}"`);
  }
  const logLevel = env.SOCKPLANE_LOG_LEVEL?.trim().toLowerCase() || LOG_LEVEL_SETTING.default;
  if (!isLogLevel(logLevel)) {
    throw new ConfigError(`SOCKPLANE_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const values: Record<string, string | number> = { host, logLevel };
  for (const setting of INTEGER_SETTINGS) values[setting.key] = readInteger(env, setting);
  return Object.assign(new AppConfig(), values);
}

function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

function readInteger(env: Readonly<Record<string, string | undefined>>, setting: IntegerSetting): number {
  const raw = env[setting.variable]?.trim();
  if (raw === undefined || raw === '') return setting.default;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${setting.variable} must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < setting.min || value > setting.max) {
    throw new ConfigError(`${setting.variable} must be between ${setting.min} and ${setting.max}, got ${value}`);
  }
  return value;
}
