import { ByteWriter } from '../byte-writer';
import { decodePayload, PayloadEncoding } from '../payload-codec';
import { TlsClientOptions } from '../tls/tls-client';
import { TlsServer } from '../tls/tls-session';
import { ALWAYS, Captures, Matcher, OFFERS_NOTHING, Offered, compileMatch } from './match';
import { CLOSE_MODES, CloseMode, RULE_COUNTINGS, RULE_DEFAULTS, RULE_TRIGGERS, RuleCounting, RuleDefault, RuleLimits, RuleSetSpec, RuleTrigger, TLS_ROLES, TlsRole } from './rule-spec';
import { RuleInvalid, SpecReader } from './spec-reader';

/** Where a rule set runs: on a TCP connection (and the listener that copies it to each), or a UDP socket. */
export type RuleHostKind = 'tcp' | 'udp';

const TRIGGERS_OF: Record<RuleHostKind, readonly RuleTrigger[]> = {
  tcp: ['connect', 'frame', 'idle', 'peer-end'],
  udp: ['datagram'],
};
const ACTIONS_OF: Record<RuleHostKind, readonly string[]> = {
  tcp: ['send', 'sendSlowly', 'delayMs', 'close', 'setState', 'startTls', 'keep', 'discard'],
  udp: ['send', 'delayMs', 'setState', 'keep', 'discard'],
};
const ACTION_KEYS = ['send', 'sendSlowly', 'encoding', 'frame', 'to', 'chunkBytes', 'intervalMs', 'delayMs', 'close', 'setState', 'startTls', 'keep', 'discard'] as const;
const RULE_KEYS = ['id', 'on', 'idleMs', 'match', 'then', 'responses', 'times'] as const;
const MAX_ACTIONS = 32;
export const MAX_RESPONSES = 64;
export const MAX_DELAY_MS = 600_000;
const NAME_BYTES = 128;

/** A reply as written: literal bytes and the places `${…}` fills in. */
type TemplatePart = Buffer | { capture: number | string } | 'frame';

export class ReplyTemplate {
  constructor(
    private readonly parts: readonly TemplatePart[],
    private readonly maxBytes: number,
  ) {}

  /**
   * Writes the reply for a frame into `out`, captures straight from the frame's bytes where the
   * regex ran on them; false, with nothing written, when it would be over the reply limit.
   */
  writeTo(out: ByteWriter, frame: Buffer, captures: Captures): boolean {
    const start = out.length;
    for (const part of this.parts) {
      if (Buffer.isBuffer(part)) out.writeBytes(part);
      else if (part === 'frame') out.writeBytes(frame);
      else captures.write(out, part.capture);
    }
    if (out.length - start <= this.maxBytes) return true;
    out.truncate(start);
    return false;
  }

  /** The reply for a frame as a buffer of its own; null when it would be over the reply limit. */
  render(frame: Buffer, captures: Captures): Buffer | null {
    if (this.parts.length === 1 && Buffer.isBuffer(this.parts[0])) return this.parts[0];
    const out = new ByteWriter();
    return this.writeTo(out, frame, captures) ? out.take() : null;
  }
}

export type RuleAction =
  | { kind: 'send'; reply: ReplyTemplate; frame: boolean; to: { host: string; port: number } | null }
  | { kind: 'sendSlowly'; reply: ReplyTemplate; chunkBytes: number; intervalMs: number }
  | { kind: 'delay'; ms: number }
  | { kind: 'close'; mode: CloseMode }
  | { kind: 'setState'; state: string }
  | { kind: 'startTls'; role: TlsRole }
  | { kind: 'keep' }
  | { kind: 'discard' };

export interface CompiledRule {
  readonly id: string;
  readonly on: RuleTrigger;
  readonly idleMs: number;
  readonly match: Matcher;
  /** The answers, used in turn; a rule with `then` has one. */
  readonly responses: readonly (readonly RuleAction[])[];
  /** Matches after which it is spent; null = never. */
  readonly times: number | null;
}

/** The TLS settings `startTls` actions take: the server role's certificate and settings, the client role's trust. */
export interface RuleTls {
  server: TlsServer | null;
  client: TlsClientOptions | null;
}

/** How often a rule matched and when it last did; `cursor` is its next response when turns are shared. */
export interface RuleStats {
  matches: number;
  lastMatchAt: Date | null;
  cursor: number;
}

/**
 * A rule set compiled once: what a listener copies to each connection it accepts and what a
 * connection or UDP socket runs. It is never changed; a new one replaces it. `stats` count the
 * matches of every place that runs it.
 */
export class RuleSet {
  readonly stats: RuleStats[];
  /** Set once by whoever compiled it, before it runs, when it has `startTls` actions. */
  tls: RuleTls = { server: null, client: null };

  constructor(
    readonly kind: RuleHostKind,
    readonly rules: readonly CompiledRule[],
    readonly fallback: RuleDefault,
    readonly initialState: string | null,
    readonly counting: RuleCounting,
    /** The set as it was written, for reads and exports. */
    readonly spec: RuleSetSpec,
  ) {
    this.stats = rules.map(() => ({ matches: 0, lastMatchAt: null, cursor: 0 }));
  }

  /** Whether an action of this kind appears anywhere in it. */
  uses(kind: RuleAction['kind']): boolean {
    return this.rules.some((rule) => rule.responses.some((actions) => actions.some((action) => action.kind === kind)));
  }

  /** The shortest idle time of its `idle` rules; null when it has none. */
  get idleMs(): number | null {
    const idle = this.rules.filter((rule) => rule.on === 'idle').map((rule) => rule.idleMs);
    return idle.length > 0 ? Math.min(...idle) : null;
  }
}

/** Compiles a rule set written by a caller; throws `RuleInvalid` naming the field at fault. */
export function compileRuleSet(value: unknown, kind: RuleHostKind, limits: RuleLimits, prefix = ''): RuleSet {
  const reader = new SpecReader(value, prefix);
  reader.onlyKeys(['rules', 'default', 'initialState', 'counting']);
  const items = reader.list('rules', limits.maxRules);
  if (items === undefined) throw new RuleInvalid(reader.path('rules'), `${reader.path('rules')} is required`);
  const fallback = reader.oneOf('default', RULE_DEFAULTS) ?? 'keep';
  if (kind === 'udp' && fallback === 'close') throw new RuleInvalid(reader.path('default'), `${reader.path('default')} close does not apply to a UDP socket`);
  const initialState = reader.name('initialState', NAME_BYTES) ?? null;
  const counting = reader.oneOf('counting', RULE_COUNTINGS) ?? 'per-connection';
  const ids = new Set<string>();
  const rules = items.map((item, index) => {
    const rule = compileRule(item, index, kind, limits);
    if (ids.has(rule.id)) throw new RuleInvalid(item.path('id'), `${item.path('id')} ${rule.id} is used by an earlier rule; rule ids are unique in a set`);
    ids.add(rule.id);
    return rule;
  });
  const spec = structuredClone(value) as RuleSetSpec;
  return new RuleSet(kind, rules, fallback, initialState, counting, spec);
}

function compileRule(reader: SpecReader, index: number, kind: RuleHostKind, limits: RuleLimits): CompiledRule {
  reader.onlyKeys(RULE_KEYS);
  const id = reader.name('id', NAME_BYTES) ?? `rule-${index + 1}`;
  const on = reader.oneOf('on', RULE_TRIGGERS) ?? TRIGGERS_OF[kind][kind === 'tcp' ? 1 : 0];
  if (!TRIGGERS_OF[kind].includes(on)) {
    throw new RuleInvalid(reader.path('on'), `${reader.path('on')} must be one of ${TRIGGERS_OF[kind].join(', ')} on a ${kind === 'tcp' ? 'TCP connection or listener' : 'UDP socket'}`);
  }
  const idleMs = reader.integer('idleMs', 1, 86_400_000);
  if (on === 'idle' && idleMs === undefined) throw new RuleInvalid(reader.path('idleMs'), `${reader.path('idleMs')} is required for on: idle`);
  if (on !== 'idle' && idleMs !== undefined) throw new RuleInvalid(reader.path('idleMs'), `${reader.path('idleMs')} applies only to on: idle`);
  const matchSpec = reader.object('match');
  const then = reader.list('then', MAX_ACTIONS);
  const responses = reader.list('responses', MAX_RESPONSES);
  if ((then === undefined) === (responses === undefined)) {
    throw new RuleInvalid(reader.path('then'), `${reader.path('then')}: give either then (one answer) or responses (answers used in turn)`);
  }
  // The match first: the replies are checked against the captures it gives.
  const match = matchSpec ? compileMatch(matchSpec, limits) : { test: ALWAYS, offers: OFFERS_NOTHING, dataField: null };
  // connect, idle and peer-end match an empty frame: a condition on the data could never hold
  // (or, under not, always would), so the rule would never or always run whatever was written.
  if (on !== 'frame' && on !== 'datagram' && match.dataField !== null) {
    throw new RuleInvalid(match.dataField, `${match.dataField}: on: ${on} sees no data; give it no condition, or only state`);
  }
  const fills: Fills = { offers: match.offers, frame: on === 'frame' || on === 'datagram', on };
  const answers = then
    ? [then.map((action) => compileAction(action, kind, limits, fills))]
    : (responses ?? []).map((response) => {
        response.onlyKeys(['then']);
        const actions = response.list('then', MAX_ACTIONS);
        if (actions === undefined) throw new RuleInvalid(response.path('then'), `${response.path('then')} is required`);
        return actions.map((action) => compileAction(action, kind, limits, fills));
      });
  if (answers.length === 0) throw new RuleInvalid(reader.path('responses'), `${reader.path('responses')} must hold at least one response`);
  return {
    id,
    on,
    idleMs: idleMs ?? 0,
    match: match.test,
    responses: answers,
    times: reader.integer('times', 1, 1_000_000_000) ?? null,
  };
}

function compileAction(reader: SpecReader, kind: RuleHostKind, limits: RuleLimits, fills: Fills): RuleAction {
  reader.onlyKeys(ACTION_KEYS);
  const verbs = reader.keys().filter((key) => ['send', 'sendSlowly', 'delayMs', 'close', 'setState', 'startTls', 'keep', 'discard'].includes(key));
  if (verbs.length !== 1) {
    throw new RuleInvalid(reader.location, `${reader.location} must give exactly one of send, sendSlowly, delayMs, close, setState, startTls, keep, discard`);
  }
  const verb = verbs[0];
  if (!ACTIONS_OF[kind].includes(verb)) throw new RuleInvalid(reader.path(verb), `${reader.path(verb)} does not apply to a ${kind === 'tcp' ? 'TCP connection' : 'UDP socket'}`);
  const extras: Record<string, readonly string[]> = { send: ['encoding', 'frame', 'to'], sendSlowly: ['encoding', 'chunkBytes', 'intervalMs'] };
  const allowed = [verb, ...(extras[verb] ?? [])];
  for (const key of reader.keys()) if (!allowed.includes(key)) throw new RuleInvalid(reader.path(key), `${reader.path(key)} does not go with ${verb}`);
  if (kind === 'tcp' && reader.has('to')) throw new RuleInvalid(reader.path('to'), `${reader.path('to')} applies only to a UDP socket`);
  if (kind === 'udp' && reader.has('frame')) throw new RuleInvalid(reader.path('frame'), `${reader.path('frame')} applies only to a TCP connection`);
  switch (verb) {
    case 'send': {
      const reply = compileTemplate(reader, 'send', limits, fills);
      const to = reader.object('to');
      let target: { host: string; port: number } | null = null;
      if (to) {
        to.onlyKeys(['host', 'port']);
        const host = to.text('host', 253);
        const port = to.integer('port', 1, 65535);
        if (host === undefined || port === undefined) throw new RuleInvalid(to.path(host === undefined ? 'host' : 'port'), `${reader.path('to')} needs host and port`);
        target = { host, port };
      }
      return { kind: 'send', reply, frame: reader.boolean('frame') ?? false, to: target };
    }
    case 'sendSlowly':
      return {
        kind: 'sendSlowly',
        reply: compileTemplate(reader, 'sendSlowly', limits, fills),
        chunkBytes: reader.integer('chunkBytes', 1, 65_536) ?? 1,
        intervalMs: reader.integer('intervalMs', 0, 60_000) ?? 10,
      };
    case 'delayMs':
      return { kind: 'delay', ms: reader.integer('delayMs', 0, MAX_DELAY_MS) ?? 0 };
    case 'close':
      return { kind: 'close', mode: reader.oneOf('close', CLOSE_MODES) ?? 'fin' };
    case 'setState':
      return { kind: 'setState', state: reader.name('setState', NAME_BYTES) ?? '' };
    case 'startTls':
      return { kind: 'startTls', role: reader.oneOf('startTls', TLS_ROLES) ?? 'server' };
    default:
      if (reader.boolean(verb) !== true) throw new RuleInvalid(reader.path(verb), `${reader.path(verb)} must be true`);
      return { kind: verb === 'keep' ? 'keep' : 'discard' };
  }
}

/** What a rule's replies may fill in: the captures its match is sure to give, and the frame on triggers that have one. */
interface Fills {
  offers: Offered;
  frame: boolean;
  on: RuleTrigger;
}

const PLACEHOLDER = /\$\$\{|\$\{([A-Za-z0-9_]{1,64})\}/g;

/** Why `${name}` can never be filled in for this rule; null when it can. */
function unfillable(name: string, fills: Fills): string | null {
  if (name === 'frame') return fills.frame ? null : `has no frame to fill it on: ${fills.on}`;
  const { numbered, named } = fills.offers;
  if (/^\d+$/.test(name)) {
    const sure = Math.min(...numbered);
    if (Number(name) < sure) return null;
    if (Math.max(...numbered) === 0) return 'names a regex group, and the match has no regex with groups';
    if (sure === 0) return 'names a regex group that not every branch of the match (any) gives';
    return `names a regex group the match does not have (it has ${sure - 1})`;
  }
  if (named.has(name)) return null;
  return 'names a group no regex of the match gives (a named group (?P<name>…) in every branch of an any)';
}

/** Splits a reply into literal bytes (decoded in its encoding, piece by piece) and `${…}` places. */
function compileTemplate(reader: SpecReader, key: 'send' | 'sendSlowly', limits: RuleLimits, fills: Fills): ReplyTemplate {
  const text = reader.text(key, limits.maxReplyBytes) ?? '';
  const encoding: PayloadEncoding = reader.encoding('encoding');
  const parts: TemplatePart[] = [];
  let literal = '';
  let last = 0;
  const flush = (): void => {
    if (literal !== '') parts.push(reader.at(key, () => decodePayload(literal, encoding, reader.path(key))));
    literal = '';
  };
  for (const found of text.matchAll(PLACEHOLDER)) {
    literal += text.slice(last, found.index);
    last = found.index + found[0].length;
    if (found[1] === undefined) {
      flush();
      parts.push(Buffer.from('${'));
      continue;
    }
    flush();
    const name = found[1];
    // A place the match can never fill would always go out empty: a typo or a group that was
    // renamed or dropped, which a test would only notice from a wrong reply.
    const missing = unfillable(name, fills);
    if (missing !== null) throw new RuleInvalid(reader.path(key), `${reader.path(key)}: \${${name}} ${missing}; write $\${ for a literal \${`);
    parts.push(name === 'frame' ? 'frame' : { capture: /^\d+$/.test(name) ? Number(name) : name });
  }
  literal += text.slice(last);
  flush();
  if (parts.length === 0) parts.push(Buffer.alloc(0));
  return new ReplyTemplate(parts, limits.maxReplyBytes);
}
