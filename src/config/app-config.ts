import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { ApiKey, ApiKeySyntaxError, assertDistinct, parseApiKeys } from '../auth/api-keys';
import { AddressRule, PortRange, RuleSyntaxError, judgedAddress, parseAddressRule, parsePortRanges, ruleMatches } from '../policy/address-rule';

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
  readonly maxSocketsPerKey!: number;
  readonly maxTotalBufferedBytes!: number;
  readonly maxLongPolls!: number;
  readonly maxEventStreams!: number;
  readonly idleTimeoutMs!: number;
  readonly requestTimeoutMs!: number;
  readonly shedEventLoopDelayMs!: number;
  readonly shedHeapUsedBytes!: number;
  /** Every configured API key (`SOCKPLANE_API_KEYS` and `SOCKPLANE_API_KEYS_FILE`); none = authentication off. */
  readonly apiKeys!: readonly ApiKey[];
  readonly allowUnauthenticated!: boolean;
  readonly policyAllow!: readonly AddressRule[];
  readonly policyDeny!: readonly AddressRule[];
  readonly bindHosts!: readonly (AddressRule | 'localhost')[];
  readonly bindPorts!: readonly PortRange[];
  /** Host names (lower case, no port) the Host header may carry besides the loopback ones; `*` = any. */
  readonly allowedHosts!: readonly string[];
  /** Origins CORS answers for; none = CORS off. */
  readonly corsOrigins!: readonly string[];
}

interface IntegerSetting {
  variable: string;
  key: { [K in keyof AppConfig]: AppConfig[K] extends number ? K : never }[keyof AppConfig];
  default: number;
  min: number;
  max: number;
  meaning: string;
}

const MiB = 1024 * 1024;

/** The integer settings: name, default, bounds and meaning. The README's table mirrors this list. */
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
  {
    variable: 'SOCKPLANE_MAX_SOCKETS_PER_KEY',
    key: 'maxSocketsPerKey',
    default: 0,
    min: 0,
    max: 1_000_000,
    meaning: 'Sockets one API key holds at once, the connections its listeners accepted included (0 = only `SOCKPLANE_MAX_SOCKETS` applies)',
  },
  {
    variable: 'SOCKPLANE_MAX_TOTAL_BUFFERED_BYTES',
    key: 'maxTotalBufferedBytes',
    default: 256 * MiB,
    min: 1024,
    max: 64 * 1024 * MiB,
    meaning: 'Unreleased received bytes all TCP connections hold together; past it every connection that receives stops reading until bytes are released',
  },
  { variable: 'SOCKPLANE_MAX_LONG_POLLS', key: 'maxLongPolls', default: 1000, min: 1, max: 1_000_000, meaning: 'Reads waiting at once (`waitMs` > 0); one more answers 429 QUOTA_EXCEEDED' },
  { variable: 'SOCKPLANE_MAX_EVENT_STREAMS', key: 'maxEventStreams', default: 100, min: 1, max: 100_000, meaning: 'Event streams open at once; one more answers 429 QUOTA_EXCEEDED' },
  {
    variable: 'SOCKPLANE_IDLE_TIMEOUT_MS',
    key: 'idleTimeoutMs',
    default: 0,
    min: 0,
    max: 86_400_000,
    meaning: '`idleTimeoutMs` of TCP connections and listeners that do not give one (0 = connections never time out)',
  },
  {
    variable: 'SOCKPLANE_REQUEST_TIMEOUT_MS',
    key: 'requestTimeoutMs',
    default: 30_000,
    min: 1000,
    max: 600_000,
    meaning: 'Time a client has to send a whole HTTP request (slow-loris); long-polls are answers and are not cut by it',
  },
  {
    variable: 'SOCKPLANE_SHED_EVENT_LOOP_DELAY_MS',
    key: 'shedEventLoopDelayMs',
    default: 1000,
    min: 0,
    max: 600_000,
    meaning: 'Event-loop delay above which `/v1` requests are shed with 503 OVERLOADED and `Retry-After` (0 = never)',
  },
  {
    variable: 'SOCKPLANE_SHED_HEAP_USED_BYTES',
    key: 'shedHeapUsedBytes',
    default: 0,
    min: 0,
    max: 1024 * 1024 * MiB,
    meaning: 'Heap in use above which `/v1` requests are shed with 503 OVERLOADED and `Retry-After` (0 = never)',
  },
];

interface TextSetting {
  variable: string;
  default: string;
  meaning: string;
}

/** The settings that are lists or flags: name, default (as written) and meaning. The README's table mirrors this list too. */
export const TEXT_SETTINGS = [
  { variable: 'HOST', default: '127.0.0.1', meaning: 'Address the HTTP API binds (an IP address or `localhost`)' },
  {
    variable: 'SOCKPLANE_API_KEYS',
    default: '',
    meaning: 'API keys, comma-separated: `secret`, `name:secret` or `name:secret:admin` (secrets of 16+ printable characters); none = authentication off',
  },
  { variable: 'SOCKPLANE_API_KEYS_FILE', default: '', meaning: 'A file of more API keys, one per line in the same forms (`#` starts a comment)' },
  {
    variable: 'SOCKPLANE_ALLOW_UNAUTHENTICATED',
    default: 'false',
    meaning: '`true` lets the service start without API keys on an address other than loopback (anyone who reaches it can drive sockets)',
  },
  {
    variable: 'SOCKPLANE_POLICY_ALLOW',
    default: '',
    meaning: 'CIDR rules with optional ports (`10.0.0.0/8`, `::1/128:1024-65535`, `127.0.0.1:8080`) that outbound connects and UDP sends may reach; when set, nothing else may',
  },
  {
    variable: 'SOCKPLANE_POLICY_DENY',
    default: '',
    meaning: 'CIDR rules with optional ports that outbound connects and UDP sends may not reach, on top of the built-in denies',
  },
  {
    variable: 'SOCKPLANE_BIND_HOSTS',
    default: '127.0.0.0/8,::1,localhost',
    meaning: 'Local addresses (CIDR rules, or `localhost`) listeners and UDP sockets may bind; add `0.0.0.0` or `::` to allow the wildcard',
  },
  { variable: 'SOCKPLANE_BIND_PORTS', default: '1024-65535', meaning: 'Ports listeners and UDP sockets may bind (`80,8000-8999`); 0 (a free port) is always allowed' },
  {
    variable: 'SOCKPLANE_ALLOWED_HOSTS',
    default: '',
    meaning: 'Host names the `Host` header may carry besides `localhost`, `127.0.0.1`, `[::1]` and `HOST` (`*` = any); others answer 421 HOST_NOT_ALLOWED',
  },
  { variable: 'SOCKPLANE_CORS_ORIGINS', default: '', meaning: 'Origins (`https://tool.example`) whose pages may call the API; none = CORS off' },
  { variable: 'SOCKPLANE_LOG_LEVEL', default: 'info', meaning: 'Least severe log level written: `fatal`, `error`, `warn`, `info`, `debug`, `trace`, `silent`' },
] as const satisfies readonly TextSetting[];

type TextVariable = (typeof TEXT_SETTINGS)[number]['variable'];

function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Validates the environment into an `AppConfig`; a bad value throws naming its variable. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): AppConfig {
  const text = (variable: TextVariable): string => env[variable]?.trim() || (TEXT_SETTINGS.find((s) => s.variable === variable)?.default ?? '');
  const host = text('HOST');
  if (host !== 'localhost' && isIP(host) === 0) {
    throw new ConfigError(`HOST must be an IP address or "localhost", got "${host}"`);
  }
  const logLevel = text('SOCKPLANE_LOG_LEVEL').toLowerCase();
  if (!isLogLevel(logLevel)) {
    throw new ConfigError(`SOCKPLANE_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const values: Record<string, unknown> = { host, logLevel };
  for (const setting of INTEGER_SETTINGS) values[setting.key] = readInteger(env, setting);

  const apiKeys = [
    ...readSetting('SOCKPLANE_API_KEYS', () => parseApiKeys(text('SOCKPLANE_API_KEYS'))),
    ...readSetting('SOCKPLANE_API_KEYS_FILE', () => (text('SOCKPLANE_API_KEYS_FILE') ? parseApiKeys(readFileSync(text('SOCKPLANE_API_KEYS_FILE'), 'utf8')) : [])),
  ];
  readSetting('SOCKPLANE_API_KEYS', () => assertDistinct(apiKeys));
  const allowUnauthenticated = readBoolean('SOCKPLANE_ALLOW_UNAUTHENTICATED', text('SOCKPLANE_ALLOW_UNAUTHENTICATED'));
  if (apiKeys.length === 0 && !allowUnauthenticated && !isLoopback(host)) {
    throw new ConfigError(
      `SOCKPLANE_API_KEYS (or SOCKPLANE_API_KEYS_FILE) must hold a key when HOST is ${host}, which other machines can reach; ` +
        'or set SOCKPLANE_ALLOW_UNAUTHENTICATED=true to serve without authentication',
    );
  }
  Object.assign(values, {
    apiKeys,
    allowUnauthenticated,
    policyAllow: readSetting('SOCKPLANE_POLICY_ALLOW', () => list(text('SOCKPLANE_POLICY_ALLOW')).map(parseAddressRule)),
    policyDeny: readSetting('SOCKPLANE_POLICY_DENY', () => list(text('SOCKPLANE_POLICY_DENY')).map(parseAddressRule)),
    bindHosts: readSetting('SOCKPLANE_BIND_HOSTS', () => list(text('SOCKPLANE_BIND_HOSTS')).map((entry) => (entry.toLowerCase() === 'localhost' ? 'localhost' : parseAddressRule(entry)))),
    bindPorts: readSetting('SOCKPLANE_BIND_PORTS', () => parsePortRanges(text('SOCKPLANE_BIND_PORTS'))),
    allowedHosts: readSetting('SOCKPLANE_ALLOWED_HOSTS', () => list(text('SOCKPLANE_ALLOWED_HOSTS')).map(parseAllowedHost)),
    corsOrigins: readSetting('SOCKPLANE_CORS_ORIGINS', () => list(text('SOCKPLANE_CORS_ORIGINS')).map(parseOrigin)),
  });
  return Object.assign(new AppConfig(), values);
}

/** Runs a parser, turning what it throws into a ConfigError naming the variable. */
function readSetting<T>(variable: TextVariable, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof RuleSyntaxError || err instanceof ApiKeySyntaxError || err instanceof SyntaxError) throw new ConfigError(`${variable}: ${err.message}`);
    const errno = (err as NodeJS.ErrnoException).code;
    if (typeof errno === 'string') throw new ConfigError(`${variable}: cannot read the file (${errno})`);
    throw err;
  }
}

function readBoolean(variable: TextVariable, raw: string): boolean {
  if (raw !== 'true' && raw !== 'false') throw new ConfigError(`${variable} must be true or false, got "${raw}"`);
  return raw === 'true';
}

function list(raw: string): string[] {
  return raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

const LOOPBACK = [parseAddressRule('127.0.0.0/8'), parseAddressRule('::1/128')];

/** `localhost` or a loopback address: only this machine can reach it. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const address = judgedAddress(host);
  return address !== null && LOOPBACK.some((rule) => ruleMatches(rule, address, null));
}

const HOST_NAME = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** A host name or IP literal (IPv6 with or without brackets) as a Host header names it, or `*`. */
function parseAllowedHost(entry: string): string {
  const host = entry.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (host === '*' || isIP(host) !== 0 || HOST_NAME.test(host)) return host;
  throw new SyntaxError(`"${entry}" is not a host name or IP address (leave the port out)`);
}

/** A serialized origin, `scheme://host[:port]`, as browsers send it in `Origin`. */
function parseOrigin(entry: string): string {
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    throw new SyntaxError(`"${entry}" is not an origin (want scheme://host[:port])`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== entry.replace(/\/$/, '').toLowerCase()) {
    throw new SyntaxError(`"${entry}" is not an origin (want http(s)://host[:port], without path, query or wildcard)`);
  }
  return url.origin;
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
