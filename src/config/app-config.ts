import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { z } from 'zod';
import { KEY_TYPES, KeyType } from '../sockets/tls/keys';
import { AddressRule, PortRange, RuleSyntaxError, judgedAddress, parseAddressRule, parsePortRanges, ruleMatches } from '../policy/address-rule';
import { ApiKey, ApiKeySyntaxError, assertDistinct, parseApiKeys } from './api-keys';

/** Log levels, quietest last; `silent` logs nothing (the tests use it). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** A setting as the documentation lists it: its variable, its default as written, what it means. */
export interface SettingDoc {
  variable: string;
  default: number | string;
  meaning: string;
}

export interface IntegerSettingDoc extends SettingDoc {
  default: number;
  min: number;
  max: number;
}

export interface TextSettingDoc extends SettingDoc {
  default: string;
}

/** One setting: how it is documented, and the schema that turns its variable's text into its value. */
interface Setting<T, Doc extends SettingDoc> {
  doc: Doc;
  schema: z.ZodType<T, string | undefined>;
}

/** Refuses a value: a ConfigError message that names the variable. */
function refuse(ctx: z.RefinementCtx, message: string): never {
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER;
}

/** A whole number within bounds; unset or blank takes the default. */
function integer(variable: string, doc: Omit<IntegerSettingDoc, 'variable'>): Setting<number, IntegerSettingDoc> {
  const schema = z
    .string()
    .optional()
    .transform((text, ctx): number => {
      const raw = text?.trim();
      if (raw === undefined || raw === '') return doc.default;
      if (!/^\d+$/.test(raw)) return refuse(ctx, `${variable} must be a whole number, got "${raw}"`);
      const value = Number(raw);
      if (value < doc.min || value > doc.max) return refuse(ctx, `${variable} must be between ${doc.min} and ${doc.max}, got ${value}`);
      return value;
    });
  return { doc: { variable, ...doc }, schema };
}

/**
 * A text setting, parsed by `parse` from its trimmed text (the default when unset or blank).
 * What `parse` throws becomes a message naming the variable; a `ConfigError` it throws is taken
 * as it is.
 */
function text<T>(variable: string, doc: Omit<TextSettingDoc, 'variable'>, parse: (raw: string) => T): Setting<T, TextSettingDoc> {
  const schema = z
    .string()
    .optional()
    .transform((value, ctx): T => {
      try {
        return parse(value?.trim() || doc.default);
      } catch (err) {
        return refuse(ctx, messageOf(variable, err));
      }
    });
  return { doc: { variable, ...doc }, schema };
}

function messageOf(variable: string, err: unknown): string {
  if (err instanceof ConfigError) return err.message;
  if (err instanceof RuleSyntaxError || err instanceof ApiKeySyntaxError || err instanceof SyntaxError) return `${variable}: ${err.message}`;
  const errno = (err as NodeJS.ErrnoException).code;
  if (typeof errno === 'string') return `${variable}: cannot read the file (${errno})`;
  throw err;
}

const MiB = 1024 * 1024;

/** The integer settings, by the AppConfig field each fills. The documentation's table lists them. */
const INTEGERS = {
  port: integer('PORT', { default: 3000, min: 0, max: 65535, meaning: 'HTTP port of the API (0 = any free port)' }),
  maxBufferedBytes: integer('SOCKPLANE_MAX_BUFFERED_BYTES', { default: 4 * MiB, min: 1024, max: 1024 * MiB, meaning: 'Unreleased received bytes a TCP connection holds before it stops reading (the peer is pushed back)' }),
  maxPendingWriteBytes: integer('SOCKPLANE_MAX_PENDING_WRITE_BYTES', { default: 16 * MiB, min: 1024, max: 1024 * MiB, meaning: 'Bytes queued towards a peer that does not read before `send` answers 429 WRITE_BUFFER_FULL' }),
  maxSockets: integer('SOCKPLANE_MAX_SOCKETS', { default: 20000, min: 1, max: 1_000_000, meaning: 'Sockets (listeners, connections, UDP sockets, UDP proxies and their clients’ sockets) held at once' }),
  maxWaitMs: integer('SOCKPLANE_MAX_WAIT_MS', { default: 60000, min: 0, max: 3_600_000, meaning: 'Longest a long-poll waits; a longer `waitMs` is cut to it, not refused' }),
  maxReadBytes: integer('SOCKPLANE_MAX_READ_BYTES', { default: 16 * MiB, min: 1024, max: 1024 * MiB, meaning: 'Largest `maxBytes` one buffer read may ask for' }),
  bodyLimitBytes: integer('SOCKPLANE_BODY_LIMIT_BYTES', { default: 16 * MiB, min: 1024, max: 1024 * MiB, meaning: 'Largest HTTP request body (larger ones answer 413)' }),
  closeLingerMs: integer('SOCKPLANE_CLOSE_LINGER_MS', { default: 2000, min: 0, max: 600_000, meaning: "How long a graceful close waits for the peer's FIN before it resets, and a WebSocket closed at shutdown for its client's answer before it is cut" }),
  closedRetentionMs: integer('SOCKPLANE_CLOSED_RETENTION_MS', { default: 300_000, min: 0, max: 86_400_000, meaning: 'How long a connection that closed on its own stays readable before it is forgotten' }),
  udpMaxDatagrams: integer('SOCKPLANE_UDP_MAX_DATAGRAMS', { default: 10_000, min: 1, max: 10_000_000, meaning: 'Unreleased datagrams a UDP socket holds; more are dropped and counted (UDP cannot push back)' }),
  udpMaxBufferedBytes: integer('SOCKPLANE_UDP_MAX_BUFFERED_BYTES', { default: 4 * MiB, min: 1024, max: 1024 * MiB, meaning: 'Unreleased datagram bytes a UDP socket holds; a datagram that would go past it is dropped and counted' }),
  eventHistory: integer('SOCKPLANE_EVENT_HISTORY', { default: 10_000, min: 0, max: 1_000_000, meaning: 'Recent events kept so an event stream can resume with `Last-Event-ID` (older ones are reported as a `gap`)' }),
  eventHistoryPayloadBytes: integer('SOCKPLANE_EVENT_HISTORY_PAYLOAD_BYTES', { default: 8 * MiB, min: 0, max: 1024 * MiB, meaning: 'Received bytes the event history keeps for resumed streams that ask for payloads; the oldest payloads go first' }),
  eventPayloadMaxBytes: integer('SOCKPLANE_EVENT_PAYLOAD_MAX_BYTES', { default: 65_536, min: 1, max: 16 * MiB, meaning: 'Most payload bytes one event carries (caps `payloadMaxBytes`; longer payloads are truncated)' }),
  eventQueue: integer('SOCKPLANE_EVENT_QUEUE', { default: 1000, min: 1, max: 1_000_000, meaning: 'Events queued for an event stream that reads slower than events happen; beyond it events are skipped and reported as a `gap`' }),
  eventHeartbeatMs: integer('SOCKPLANE_EVENT_HEARTBEAT_MS', { default: 15_000, min: 10, max: 3_600_000, meaning: 'Interval of `: ping` comments on idle event streams' }),
  maxEventLoopLagMs: integer('SOCKPLANE_MAX_EVENT_LOOP_LAG_MS', { default: 1000, min: 1, max: 600_000, meaning: 'Event-loop stall (longest in the last 10 to 20 s) above which `/health/ready` answers 503' }),
  shutdownTimeoutMs: integer('SOCKPLANE_SHUTDOWN_TIMEOUT_MS', { default: 8000, min: 0, max: 600_000, meaning: 'After SIGTERM or SIGINT, how long draining requests and closing sockets may take before the process exits anyway (code 1)' }),
  maxSocketsPerKey: integer('SOCKPLANE_MAX_SOCKETS_PER_KEY', { default: 0, min: 0, max: 1_000_000, meaning: 'Sockets one API key holds at once, the connections its listeners accepted and its UDP proxies’ client sockets included (0 = only `SOCKPLANE_MAX_SOCKETS` applies)' }),
  maxTotalBufferedBytes: integer('SOCKPLANE_MAX_TOTAL_BUFFERED_BYTES', { default: 256 * MiB, min: 1024, max: 64 * 1024 * MiB, meaning: 'Unreleased received bytes all TCP connections hold together; past it every connection that receives stops reading until bytes are released' }),
  maxLongPolls: integer('SOCKPLANE_MAX_LONG_POLLS', { default: 1000, min: 1, max: 1_000_000, meaning: 'Reads waiting at once (`waitMs` > 0); one more answers 429 QUOTA_EXCEEDED' }),
  maxEventStreams: integer('SOCKPLANE_MAX_EVENT_STREAMS', { default: 100, min: 1, max: 100_000, meaning: 'Event streams open at once; one more answers 429 QUOTA_EXCEEDED' }),
  idleTimeoutMs: integer('SOCKPLANE_IDLE_TIMEOUT_MS', { default: 0, min: 0, max: 86_400_000, meaning: '`idleTimeoutMs` of TCP connections and listeners that do not give one (0 = connections never time out)' }),
  requestTimeoutMs: integer('SOCKPLANE_REQUEST_TIMEOUT_MS', { default: 30_000, min: 1000, max: 600_000, meaning: 'Time a client has to send a whole HTTP request (slow-loris); long-polls are answers and are not cut by it' }),
  shedEventLoopDelayMs: integer('SOCKPLANE_SHED_EVENT_LOOP_DELAY_MS', { default: 1000, min: 0, max: 600_000, meaning: 'Event-loop delay above which `/v1` requests are shed with 503 OVERLOADED and `Retry-After` (0 = never)' }),
  tlsCaValidityDays: integer('SOCKPLANE_TLS_CA_VALIDITY_DAYS', { default: 365, min: 1, max: 36_500, meaning: 'Days a generated instance CA is valid' }),
  tlsMaxCertificates: integer('SOCKPLANE_TLS_MAX_CERTIFICATES', { default: 1000, min: 1, max: 1_000_000, meaning: 'Certificates held at once, uploaded and generated (429 `QUOTA_EXCEEDED`, `limit: "maxCertificates"`)' }),
  tlsMaxPemBytes: integer('SOCKPLANE_TLS_MAX_PEM_BYTES', { default: 65_536, min: 256, max: 16 * MiB, meaning: 'PEM bytes one upload may carry, certificate, key and chain together (413 `BODY_TOO_LARGE`, `limit: "maxPemBytes"`)' }),
  tlsLeafCacheSize: integer('SOCKPLANE_TLS_LEAF_CACHE_SIZE', { default: 1000, min: 1, max: 1_000_000, meaning: 'Server names whose minted leaf certificates are kept' }),
  tlsHandshakeTimeoutMs: integer('SOCKPLANE_TLS_HANDSHAKE_TIMEOUT_MS', { default: 10_000, min: 100, max: 600_000, meaning: 'A TLS handshake (listener, client connection or STARTTLS) not done by then fails (`TLS_HANDSHAKE_FAILED`, `tls.state: failed`)' }),
  tlsLeafValidityDays: integer('SOCKPLANE_TLS_LEAF_VALIDITY_DAYS', { default: 30, min: 1, max: 3650, meaning: 'Days a minted leaf certificate is valid; it is minted again before it ends' }),
  shedHeapUsedBytes: integer('SOCKPLANE_SHED_HEAP_USED_BYTES', { default: 0, min: 0, max: 1024 * 1024 * MiB, meaning: 'Heap in use above which `/v1` requests are shed with 503 OVERLOADED and `Retry-After` (0 = never)' }),
  clusterHeartbeatMs: integer('SOCKPLANE_CLUSTER_HEARTBEAT_MS', { default: 2000, min: 100, max: 60_000, meaning: 'Interval of a cluster node\'s heartbeats; a node that misses three is lost' }),
  clusterEventStreamMax: integer('SOCKPLANE_CLUSTER_EVENT_STREAM_MAX', { default: 10_000, min: 100, max: 1_000_000, meaning: 'Events the cluster\'s shared Redis Stream keeps (with their payloads, so Redis holds up to this many received chunks); a stream resuming from an older event is told of a gap' }),
  clusterListDeadlineMs: integer('SOCKPLANE_CLUSTER_LIST_DEADLINE_MS', { default: 2000, min: 50, max: 60_000, meaning: 'How long a list through any node waits for the other nodes\' pages; a node later than that is named in `missingNodes`' }),
  toxiproxyPort: integer('SOCKPLANE_TOXIPROXY_PORT', { default: 8474, min: 0, max: 65535, meaning: 'Port of Toxiproxy’s API of its own, on `HOST`, when `SOCKPLANE_TOXIPROXY_API` is `true` (0 = any free port)' }),
  rulesMaxRules: integer('SOCKPLANE_RULES_MAX_RULES', { default: 100, min: 1, max: 10_000, meaning: 'Rules one rule set may hold (more answer 400 `VALIDATION_FAILED`)' }),
  rulesMaxPatternBytes: integer('SOCKPLANE_RULES_MAX_PATTERN_BYTES', { default: 4096, min: 16, max: MiB, meaning: 'Bytes of one match pattern or regex in a rule (longer ones answer 400 `VALIDATION_FAILED`)' }),
  rulesMaxReplyBytes: integer('SOCKPLANE_RULES_MAX_REPLY_BYTES', { default: 65_536, min: 16, max: 16 * MiB, meaning: 'Bytes of one rule reply, as written and once `${…}` is filled in (longer ones answer 400 `VALIDATION_FAILED`, or are not sent)' }),
};

/** The settings that are addresses, lists or flags, by the AppConfig field each fills. The documentation's table lists them too. */
const TEXTS = {
  host: text('HOST', { default: '127.0.0.1', meaning: 'Address the HTTP API binds (an IP address or `localhost`)' }, parseHost),
  apiKeys: text('SOCKPLANE_API_KEYS', { default: '', meaning: 'API keys, comma-separated: `secret`, `name:secret` or `name:secret:admin` (secrets of 16+ printable characters); none = authentication off' }, parseApiKeys),
  apiKeysFile: text('SOCKPLANE_API_KEYS_FILE', { default: '', meaning: 'A file of more API keys, one per line in the same forms (`#` starts a comment)' }, (path) =>
    path ? parseApiKeys(readFileSync(path, 'utf8')) : [],
  ),
  allowUnauthenticated: text(
    'SOCKPLANE_ALLOW_UNAUTHENTICATED',
    { default: 'false', meaning: '`true` lets the service start without API keys on an address other than loopback (anyone who reaches it can drive sockets)' },
    (raw) => parseBoolean('SOCKPLANE_ALLOW_UNAUTHENTICATED', raw),
  ),
  policyAllow: text('SOCKPLANE_POLICY_ALLOW', { default: '', meaning: 'CIDR rules with optional ports (`10.0.0.0/8`, `::1/128:1024-65535`, `127.0.0.1:8080`) that outbound connects and UDP sends may reach; when set, nothing else may' }, (raw) => list(raw).map(parseAddressRule)),
  policyDeny: text('SOCKPLANE_POLICY_DENY', { default: '', meaning: 'CIDR rules with optional ports that outbound connects and UDP sends may not reach, on top of the built-in denies' }, (raw) => list(raw).map(parseAddressRule)),
  bindHosts: text('SOCKPLANE_BIND_HOSTS', { default: '127.0.0.0/8,::1,localhost', meaning: 'Local addresses (CIDR rules, or `localhost`) listeners and UDP sockets may bind; add `0.0.0.0` or `::` to allow the wildcard' }, (raw) =>
    list(raw).map((entry): AddressRule | 'localhost' => (entry.toLowerCase() === 'localhost' ? 'localhost' : parseAddressRule(entry))),
  ),
  bindPorts: text('SOCKPLANE_BIND_PORTS', { default: '1024-65535', meaning: 'Ports listeners and UDP sockets may bind (`80,8000-8999`); 0 (a free port) is always allowed' }, (raw): PortRange[] => parsePortRanges(raw)),
  allowedHosts: text('SOCKPLANE_ALLOWED_HOSTS', { default: '', meaning: 'Host names the `Host` header may carry besides `localhost`, `127.0.0.1`, `[::1]` and `HOST` (`*` = any); others answer 421 HOST_NOT_ALLOWED' }, (raw) => list(raw).map(parseAllowedHost)),
  corsOrigins: text('SOCKPLANE_CORS_ORIGINS', { default: '', meaning: 'Origins (`https://tool.example`) whose pages may call the API; none = CORS off' }, (raw) => list(raw).map(parseOrigin)),
  tlsCaCertFile: text('SOCKPLANE_TLS_CA_CERT_FILE', { default: '', meaning: 'PEM certificate of the instance CA, with `SOCKPLANE_TLS_CA_KEY_FILE`; none = a CA generated in memory at start' }, (path) => path || null),
  tlsCaKeyFile: text('SOCKPLANE_TLS_CA_KEY_FILE', { default: '', meaning: 'Unencrypted PEM private key of the instance CA named by `SOCKPLANE_TLS_CA_CERT_FILE`' }, (path) => path || null),
  tlsAllowUploads: text(
    'SOCKPLANE_TLS_ALLOW_UPLOADS',
    { default: 'true', meaning: 'Whether `POST /v1/tls/certificates` takes uploaded certificates and keys (generating is always allowed)' },
    (raw) => parseBoolean('SOCKPLANE_TLS_ALLOW_UPLOADS', raw),
  ),
  tlsLeafKeyType: text('SOCKPLANE_TLS_LEAF_KEY_TYPE', { default: 'ec-p256', meaning: 'Key type of minted leaf certificates: `ec-p256` or `rsa-2048` (for peers without ECDSA)' }, parseKeyType),
  clusterRedisUrl: text('SOCKPLANE_CLUSTER_REDIS_URL', { default: '', meaning: 'Redis 7 URL (`redis://host:6379/0`) of the cluster this node joins; none = a single node, and no Redis is contacted' }, parseRedisUrl),
  clusterSecret: text('SOCKPLANE_CLUSTER_SECRET', { default: '', meaning: 'Secret the nodes of a cluster authenticate their forwarded calls with (16+ printable characters, the same on every node); needed with `SOCKPLANE_CLUSTER_REDIS_URL`' }, (raw) => raw),
  clusterApiUrl: text('SOCKPLANE_CLUSTER_API_URL', { default: '', meaning: 'URL the other nodes reach this node\'s API at (`http://10.0.0.2:3000`; its host is allowed in the Host header); none = `HOST` and the port it listens on' }, parseApiUrl),
  clusterSocketHost: text('SOCKPLANE_CLUSTER_SOCKET_HOST', { default: '', meaning: 'Address clients dial to reach the listeners this node holds: a listener made here without `host` binds it, and `GET /v1/cluster` shows it; none = `HOST`' }, (raw) => raw || null),
  logLevel: text('SOCKPLANE_LOG_LEVEL', { default: 'info', meaning: 'Least severe log level written: `fatal`, `error`, `warn`, `info`, `debug`, `trace`, `silent`' }, parseLogLevel),
  toxiproxyApi: text(
    'SOCKPLANE_TOXIPROXY_API',
    { default: 'false', meaning: '`true` also serves Toxiproxy’s API (always at `/toxiproxy`) at the root of a port of its own, `SOCKPLANE_TOXIPROXY_PORT`, for Toxiproxy clients that cannot be given a path' },
    (raw) => parseBoolean('SOCKPLANE_TOXIPROXY_API', raw),
  ),
  scenarioFile: text('SOCKPLANE_SCENARIO_FILE', { default: '', meaning: 'A scenario (JSON, or YAML for `.yaml`/`.yml`) applied at start, so the service comes up already serving its listeners and UDP sockets (docs/scenarios.md)' }, (path) => path || null),
};

/** Every integer setting: name, default, bounds and meaning. */
export const INTEGER_SETTINGS: readonly IntegerSettingDoc[] = Object.values(INTEGERS).map((setting) => setting.doc);
/** Every other setting: name, default (as written) and meaning. */
export const TEXT_SETTINGS: readonly TextSettingDoc[] = Object.values(TEXTS).map((setting) => setting.doc);

type Schemas<S extends Record<string, Setting<unknown, SettingDoc>>> = { [K in keyof S]: S[K]['schema'] };

function schemasOf<S extends Record<string, Setting<unknown, SettingDoc>>>(settings: S): Schemas<S> {
  return Object.fromEntries(Object.entries(settings).map(([key, setting]) => [key, setting.schema])) as Schemas<S>;
}

const SETTINGS = { ...INTEGERS, ...TEXTS };

/** The environment's settings, by AppConfig field (the input is the variables' text, looked up by `loadConfig`). */
const SETTINGS_SCHEMA = z.object(schemasOf(SETTINGS)).transform(({ apiKeys, apiKeysFile, ...settings }, ctx) => {
  const keys: readonly ApiKey[] = [...apiKeys, ...apiKeysFile];
  try {
    assertDistinct(keys);
  } catch (err) {
    return refuse(ctx, messageOf('SOCKPLANE_API_KEYS', err));
  }
  if (keys.length === 0 && !settings.allowUnauthenticated && !isLoopback(settings.host)) {
    return refuse(
      ctx,
      `SOCKPLANE_API_KEYS (or SOCKPLANE_API_KEYS_FILE) must hold a key when HOST is ${settings.host}, which other machines can reach; ` +
        'or set SOCKPLANE_ALLOW_UNAUTHENTICATED=true to serve without authentication',
    );
  }
  if ((settings.tlsCaCertFile === null) !== (settings.tlsCaKeyFile === null)) {
    return refuse(ctx, 'name both SOCKPLANE_TLS_CA_CERT_FILE and SOCKPLANE_TLS_CA_KEY_FILE, or neither (a CA generated at start)');
  }
  if (settings.clusterRedisUrl !== null && !/^[\x21-\x7e]{16,512}$/.test(settings.clusterSecret)) {
    return refuse(ctx, 'SOCKPLANE_CLUSTER_SECRET must be 16 to 512 printable characters, the same on every node, when SOCKPLANE_CLUSTER_REDIS_URL is set');
  }
  // The other nodes call this one at its API URL, with that host in the Host header.
  const allowedHosts = settings.clusterApiUrl === null ? settings.allowedHosts : [...settings.allowedHosts, new URL(settings.clusterApiUrl).hostname.replace(/^\[(.*)\]$/, '$1')];
  return { ...settings, allowedHosts, apiKeys: keys };
});

/** Every setting, typed as the schema makes it. */
export type Settings = z.output<typeof SETTINGS_SCHEMA>;

/** A class whose instances hold `T`'s fields, so that Nest can inject settings by type. */
function settingsClass<T extends object>(): new (values: T) => Readonly<T> {
  return class {
    constructor(values: T) {
      Object.assign(this, values);
    }
  } as new (values: T) => Readonly<T>;
}

function pick<T extends object, K extends keyof T>(values: T, keys: readonly K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((key) => [key, values[key]])) as Pick<T, K>;
}

/** Every setting, validated once at start-up by `loadConfig`. */
export class AppConfig extends settingsClass<Settings>() {}

const EVENT_KEYS = ['eventHistory', 'eventHistoryPayloadBytes', 'eventPayloadMaxBytes', 'eventQueue', 'eventHeartbeatMs', 'maxEventStreams'] as const;
/** What the event streams need: history, queues, payload caps, heartbeat. */
export class EventSettings extends settingsClass<Pick<Settings, (typeof EVENT_KEYS)[number]>>() {}

const REQUEST_KEYS = ['maxWaitMs', 'maxReadBytes', 'idleTimeoutMs', 'maxBufferedBytes'] as const;
/** What the TCP and UDP operations apply to a request: the longest wait, the largest read, the default idle timeout, the buffer cap a frame must fit. */
export class RequestSettings extends settingsClass<Pick<Settings, (typeof REQUEST_KEYS)[number]>>() {}

const AUTH_KEYS = ['apiKeys'] as const;
/** What authentication needs: the API keys (none = authentication off). */
export class AuthSettings extends settingsClass<Pick<Settings, (typeof AUTH_KEYS)[number]>>() {}

const TLS_KEYS = ['tlsHandshakeTimeoutMs', 'tlsCaCertFile', 'tlsCaKeyFile', 'tlsAllowUploads', 'tlsLeafCacheSize', 'tlsLeafValidityDays', 'tlsLeafKeyType', 'tlsCaValidityDays', 'tlsMaxCertificates', 'tlsMaxPemBytes'] as const;
/** What the TLS module needs: where the instance CA comes from, the leaf cache, the certificate store's bounds. */
export class TlsSettings extends settingsClass<Pick<Settings, (typeof TLS_KEYS)[number]>>() {}

const RULE_KEYS = ['rulesMaxRules', 'rulesMaxPatternBytes', 'rulesMaxReplyBytes'] as const;
/** What reply rules are bounded by. */
export class RuleSettings extends settingsClass<Pick<Settings, (typeof RULE_KEYS)[number]>>() {}

/** The slices of `config` the modules that need only part of it are given. */
export function settingSlices(config: AppConfig): { events: EventSettings; requests: RequestSettings; auth: AuthSettings; tls: TlsSettings; rules: RuleSettings } {
  return {
    events: new EventSettings(pick(config, EVENT_KEYS)),
    requests: new RequestSettings(pick(config, REQUEST_KEYS)),
    auth: new AuthSettings(pick(config, AUTH_KEYS)),
    tls: new TlsSettings(pick(config, TLS_KEYS)),
    rules: new RuleSettings(pick(config, RULE_KEYS)),
  };
}

/** Validates the environment into an `AppConfig`; a bad value throws a ConfigError naming its variable. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): AppConfig {
  const input = Object.fromEntries(Object.entries(SETTINGS).map(([key, setting]) => [key, env[setting.doc.variable]]));
  const result = SETTINGS_SCHEMA.safeParse(input);
  if (!result.success) throw new ConfigError(result.error.issues[0].message);
  return new AppConfig(result.data);
}

function parseHost(host: string): string {
  if (host !== 'localhost' && isIP(host) === 0) throw new ConfigError(`HOST must be an IP address or "localhost", got "${host}"`);
  return host;
}

/** `raw` as a URL; `message` says what was wanted when it is not one. */
function parseUrl(raw: string, message: string): URL {
  try {
    return new URL(raw);
  } catch {
    throw new ConfigError(`${message}, got "${raw}"`);
  }
}

function parseRedisUrl(raw: string): string | null {
  if (raw === '') return null;
  const wanted = 'SOCKPLANE_CLUSTER_REDIS_URL must be a redis:// or rediss:// URL';
  const url = parseUrl(raw, wanted);
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new ConfigError(`${wanted}, got "${url.protocol}"`);
  return raw;
}

function parseApiUrl(raw: string): string | null {
  if (raw === '') return null;
  const url = parseUrl(raw, 'SOCKPLANE_CLUSTER_API_URL must be an http:// URL');
  if (url.protocol !== 'http:' || url.pathname !== '/' || url.search !== '') throw new ConfigError(`SOCKPLANE_CLUSTER_API_URL must be an http:// URL without path or query, got "${raw}"`);
  return url.origin;
}

function parseLogLevel(raw: string): LogLevel {
  const level = raw.toLowerCase();
  const known = LOG_LEVELS.find((candidate) => candidate === level);
  if (!known) throw new ConfigError(`SOCKPLANE_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${level}"`);
  return known;
}

function parseKeyType(raw: string): KeyType {
  const known = KEY_TYPES.find((candidate) => candidate === raw);
  if (!known) throw new ConfigError(`SOCKPLANE_TLS_LEAF_KEY_TYPE must be one of ${KEY_TYPES.join(', ')}, got "${raw}"`);
  return known;
}

function parseBoolean(variable: string, raw: string): boolean {
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
