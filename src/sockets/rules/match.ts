import { RE2JS, RE2JSException } from 're2js';
import { ByteWriter } from '../byte-writer';
import { PayloadEncoding, decodePayload } from '../payload-codec';
import { RuleLimits } from './rule-spec';
import { RuleInvalid, SpecReader } from './spec-reader';

/** A regex group, by its number or its name. */
export type GroupRef = number | string;

/**
 * What a matched rule may put into its reply: the groups its regexes captured, read only when a
 * reply names one (a match builds no value for each group).
 */
export interface Captures {
  /** Whether the match gave this group. */
  has(group: GroupRef): boolean;
  /**
   * Writes the group into `out`: the frame's own bytes it spans (a regex on utf8 runs on the
   * bytes), or its text in the encoding the regex ran on (so a group of a frame's hex form goes
   * back as the bytes it spells); nothing for a group the match did not give.
   */
  write(out: ByteWriter, group: GroupRef): void;
}

export const NO_CAPTURES: Captures = { has: () => false, write: () => undefined };

/** A group's number: as given, or its name's in the regex (undefined for a name it does not have). */
function groupIndex(group: GroupRef, names: ReadonlyMap<string, number>): number | undefined {
  return typeof group === 'number' ? group : names.get(group);
}

/** The groups of a utf8 regex: where each lies in the frame's bytes, as re2js reports them (start and end per group, -1 for a group that took no part). */
class ByteGroups implements Captures {
  constructor(
    private readonly data: Buffer,
    private readonly bounds: readonly number[],
    private readonly names: ReadonlyMap<string, number>,
  ) {}

  has(group: GroupRef): boolean {
    const index = groupIndex(group, this.names);
    return index !== undefined && 2 * index < this.bounds.length;
  }

  write(out: ByteWriter, group: GroupRef): void {
    const index = groupIndex(group, this.names);
    if (index === undefined || 2 * index >= this.bounds.length || this.bounds[2 * index] < 0) return;
    out.writeRange(this.data, this.bounds[2 * index], this.bounds[2 * index + 1]);
  }
}

/** The groups of a regex that ran on the frame's hex or base64 form: text in that encoding. */
class TextGroups implements Captures {
  constructor(
    private readonly found: readonly (string | null)[],
    private readonly names: ReadonlyMap<string, number>,
    private readonly encoding: PayloadEncoding,
  ) {}

  has(group: GroupRef): boolean {
    const index = groupIndex(group, this.names);
    return index !== undefined && index < this.found.length;
  }

  write(out: ByteWriter, group: GroupRef): void {
    const index = groupIndex(group, this.names);
    const text = index === undefined ? null : this.found[index];
    if (text !== null && text !== undefined) out.writeText(text, this.encoding);
  }
}

/** The captures of two checks that both held (`all`): a name from the later one when it gave it, numbered groups from the later one when it has a regex with groups. */
class MergedGroups implements Captures {
  constructor(
    private readonly earlier: Captures,
    private readonly later: Captures,
  ) {}

  has(group: GroupRef): boolean {
    return this.pick(group).has(group);
  }

  write(out: ByteWriter, group: GroupRef): void {
    this.pick(group).write(out, group);
  }

  private pick(group: GroupRef): Captures {
    if (typeof group === 'number') return this.later.has(0) ? this.later : this.earlier;
    return this.later.has(group) ? this.later : this.earlier;
  }
}

/**
 * A frame as matchers see it: its bytes, the current state, and its text form, made on demand
 * and kept for the encoding asked last (a set's regexes nearly always share one; a Map per
 * frame showed in the profile).
 */
export class MatchInput {
  private textEncoding: PayloadEncoding | null = null;
  private textForm = '';

  constructor(
    readonly data: Buffer,
    readonly state: string | null,
  ) {}

  text(encoding: PayloadEncoding): string {
    if (this.textEncoding !== encoding) {
      this.textForm = this.data.toString(encoding);
      this.textEncoding = encoding;
    }
    return this.textForm;
  }
}

/** A compiled condition: the captures it found (none for conditions without a regex) or null when it does not hold. */
export type Matcher = (input: MatchInput) => Captures | null;

const MATCH_KEYS = ['equals', 'contains', 'startsWith', 'endsWith', 'regex', 'bytes', 'encoding', 'ignoreCase', 'state', 'all', 'any', 'not'] as const;

/** Everything matches: a rule without `match`. */
export const ALWAYS: Matcher = () => NO_CAPTURES;

/**
 * How deep `all`, `any` and `not` may nest. Compiling and matching recurse once per level, so
 * a bound keeps a hostile condition from overflowing the stack; real conditions stay shallow.
 */
export const MAX_MATCH_DEPTH = 16;

/**
 * The captures a condition is sure to give when it holds, for refusing replies that name one it
 * cannot: the lengths its numbered groups may have (group 0 included; 0 when it may give none)
 * and the named groups it always gives.
 */
export interface Offered {
  numbered: readonly number[];
  named: ReadonlySet<string>;
}

export const OFFERS_NOTHING: Offered = { numbered: [0], named: new Set() };

/** A compiled condition, the captures it offers, and the path of its first condition on the data (null when it has none). */
export interface CompiledMatch {
  test: Matcher;
  offers: Offered;
  dataField: string | null;
}

const TEXT_KINDS = ['equals', 'contains', 'startsWith', 'endsWith'] as const;
const DATA_KEYS = [...TEXT_KINDS, 'regex', 'bytes'] as const;

/** Compiles a condition once; refuses what is malformed or over the limits, naming the field. */
export function compileMatch(reader: SpecReader, limits: RuleLimits, depth = 0): CompiledMatch {
  if (depth > MAX_MATCH_DEPTH) throw new RuleInvalid(reader.location, `${reader.location} nests all, any and not more than ${MAX_MATCH_DEPTH} levels deep`);
  reader.onlyKeys(MATCH_KEYS);
  const encoding = reader.encoding('encoding');
  const ignoreCase = reader.boolean('ignoreCase') ?? false;
  // ignoreCase changes utf8 comparisons and regexes only: on hex, base64 or bytes it would be
  // silently passed over, and a caller who wrote it expects it to do something.
  const folds = reader.has('regex') || (encoding === 'utf8' && TEXT_KINDS.some((key) => reader.has(key)));
  if (ignoreCase && !folds) {
    throw new RuleInvalid(reader.path('ignoreCase'), `${reader.path('ignoreCase')} applies only to utf8 equals, contains, startsWith, endsWith and to regex; this condition has none`);
  }
  const checks: CompiledMatch[] = [];
  for (const kind of TEXT_KINDS) {
    const pattern = reader.text(kind, limits.maxPatternBytes);
    if (pattern === undefined) continue;
    const bytes = reader.at(kind, () => decodePayload(pattern, encoding, reader.path(kind)));
    checks.push(plain(ignoreCase && encoding === 'utf8' ? textCheck(kind, pattern.toLowerCase()) : byteCheck(kind, bytes)));
  }
  const regex = reader.text('regex', limits.maxPatternBytes);
  if (regex !== undefined) checks.push(regexCheck(reader, regex, encoding, ignoreCase));
  const bytes = reader.text('bytes', limits.maxPatternBytes);
  if (bytes !== undefined) checks.push(plain(bytesCheck(reader.at('bytes', () => parseBytePattern(bytes)))));
  const state = reader.name('state', limits.maxPatternBytes);
  if (state !== undefined) checks.push(plain((input) => (input.state === state ? NO_CAPTURES : null)));
  const all = nonEmpty(reader, 'all')?.map((item) => compileMatch(item, limits, depth + 1));
  if (all) checks.push(...all);
  const any = nonEmpty(reader, 'any')?.map((item) => compileMatch(item, limits, depth + 1));
  if (any) checks.push(anyOf(any));
  const not = reader.object('not');
  if (not) {
    const inner = compileMatch(not, limits, depth + 1);
    checks.push({ ...plain((input) => (inner.test(input) === null ? NO_CAPTURES : null)), dataField: inner.dataField });
  }
  const ownData = DATA_KEYS.find((key) => reader.has(key));
  const compiled = allOf(checks);
  return ownData === undefined ? compiled : { ...compiled, dataField: reader.path(ownData) };
}

/**
 * A list of `all` or `any` that holds something: `any: []` never holds and `all: []` always
 * does, both more likely a list left unfinished than meant (omit the condition, or use not: {}).
 */
function nonEmpty(reader: SpecReader, key: 'all' | 'any'): SpecReader[] | undefined {
  const items = reader.list(key, 32);
  if (items?.length === 0) throw new RuleInvalid(reader.path(key), `${reader.path(key)} is empty; give at least one condition, or leave ${key} out`);
  return items;
}

/** A check that gives no captures. */
function plain(test: Matcher): CompiledMatch {
  return { test, offers: OFFERS_NOTHING, dataField: null };
}

/**
 * Every check must hold. Named groups add up; the numbered ones are those of the last check that
 * gave any (as mergeCaptures keeps them), so each length a later check may give replaces the
 * earlier one unless it is 0.
 */
function allOf(compiled: CompiledMatch[]): CompiledMatch {
  if (compiled.length === 0) return { test: ALWAYS, offers: OFFERS_NOTHING, dataField: null };
  if (compiled.length === 1) return compiled[0];
  let numbered: readonly number[] = [0];
  const named = new Set<string>();
  for (const { offers } of compiled) {
    numbered = [...new Set(numbered.flatMap((before) => offers.numbered.map((length) => (length > 0 ? length : before))))];
    for (const name of offers.named) named.add(name);
  }
  const checks = compiled.map((check) => check.test);
  return { test: allTests(checks), offers: { numbered, named }, dataField: firstDataField(compiled) };
}

function allTests(checks: Matcher[]): Matcher {
  return (input) => {
    let found: Captures = NO_CAPTURES;
    for (const check of checks) {
      const captures = check(input);
      if (captures === null) return null;
      if (captures !== NO_CAPTURES) found = mergeCaptures(found, captures);
    }
    return found;
  };
}

/** The first branch that holds gives the captures, so only what every branch gives is sure. */
function anyOf(compiled: CompiledMatch[]): CompiledMatch {
  const numbered = [...new Set(compiled.flatMap((check) => check.offers.numbered))];
  const named = new Set([...(compiled[0]?.offers.named ?? [])].filter((name) => compiled.every((check) => check.offers.named.has(name))));
  return { test: anyTests(compiled.map((check) => check.test)), offers: { numbered, named }, dataField: firstDataField(compiled) };
}

function firstDataField(compiled: CompiledMatch[]): string | null {
  return compiled.find((check) => check.dataField !== null)?.dataField ?? null;
}

function anyTests(checks: Matcher[]): Matcher {
  return (input) => {
    for (const check of checks) {
      const captures = check(input);
      if (captures !== null) return captures;
    }
    return null;
  };
}

function mergeCaptures(a: Captures, b: Captures): Captures {
  return a === NO_CAPTURES ? b : new MergedGroups(a, b);
}

type TextKind = 'equals' | 'contains' | 'startsWith' | 'endsWith';

function byteCheck(kind: TextKind, pattern: Buffer): Matcher {
  switch (kind) {
    case 'equals':
      return (input) => (input.data.equals(pattern) ? NO_CAPTURES : null);
    case 'contains':
      return (input) => (input.data.includes(pattern) ? NO_CAPTURES : null);
    case 'startsWith':
      return (input) => (input.data.length >= pattern.length && input.data.subarray(0, pattern.length).equals(pattern) ? NO_CAPTURES : null);
    case 'endsWith':
      return (input) => (input.data.length >= pattern.length && input.data.subarray(input.data.length - pattern.length).equals(pattern) ? NO_CAPTURES : null);
  }
}

/** Case-insensitive comparison of utf8 text. */
function textCheck(kind: TextKind, pattern: string): Matcher {
  const holds: Record<TextKind, (text: string) => boolean> = {
    equals: (text) => text === pattern,
    contains: (text) => text.includes(pattern),
    startsWith: (text) => text.startsWith(pattern),
    endsWith: (text) => text.endsWith(pattern),
  };
  return (input) => (holds[kind](input.text('utf8').toLowerCase()) ? NO_CAPTURES : null);
}

/** RE2 semantics (no backreferences, no lookaround): matching time grows linearly with the frame, whatever the pattern. */
function regexCheck(reader: SpecReader, source: string, encoding: PayloadEncoding, ignoreCase: boolean): CompiledMatch {
  let pattern: RE2JS;
  try {
    pattern = RE2JS.compile(source, ignoreCase ? RE2JS.CASE_INSENSITIVE : 0);
  } catch (err) {
    const why = err instanceof RE2JSException ? err.message : String(err);
    throw new RuleInvalid(reader.path('regex'), `${reader.path('regex')} is not a valid RE2 pattern: ${why}`);
  }
  // The engine itself, run once with every group: a Matcher's find() runs it once for the match
  // and again for the groups, and is an object per frame.
  const re2 = pattern.re2();
  const groups = pattern.groupCount();
  if (groups === 0) {
    if (encoding === 'utf8') return plain((input) => (re2.findUTF8Index(input.data) === null ? null : NO_CAPTURES));
    return plain((input) => (re2.findIndex(input.text(encoding)) === null ? null : NO_CAPTURES));
  }
  const names = new Map(Object.entries(pattern.namedGroups()));
  const offers: Offered = { numbered: [groups + 1], named: new Set(names.keys()) };
  if (encoding === 'utf8') {
    // On the frame's bytes as they are (RE2 matches UTF-8): no text form is made, and a group a
    // reply names is copied from the bytes it spans, as they came.
    const test: Matcher = (input) => {
      const bounds: number[] | null = re2.findUTF8SubmatchIndex(input.data);
      return bounds === null ? null : new ByteGroups(input.data, bounds, names);
    };
    return { test, offers, dataField: null };
  }
  const test: Matcher = (input) => {
    const found: (string | null)[] | null = re2.findSubmatch(input.text(encoding));
    return found === null ? null : new TextGroups(found, names, encoding);
  };
  return { test, offers, dataField: null };
}

/** A byte pattern: each position a byte value, or null for any byte. */
export function parseBytePattern(text: string): (number | null)[] {
  const tokens = text.trim().split(/\s+/).filter((token) => token !== '');
  const pattern: (number | null)[] = [];
  for (const token of tokens) {
    if (!/^(?:[0-9a-fA-F]{2}|\?\?)+$/.test(token)) throw new Error(`"${token}" is not hex bytes or ?? (any byte)`);
    for (let i = 0; i < token.length; i += 2) {
      const pair = token.slice(i, i + 2);
      pattern.push(pair === '??' ? null : parseInt(pair, 16));
    }
  }
  if (pattern.length === 0) throw new Error('a byte pattern needs at least one byte');
  return pattern;
}

function bytesCheck(pattern: (number | null)[]): Matcher {
  return (input) => {
    const { data } = input;
    if (data.length < pattern.length) return null;
    for (let i = 0; i < pattern.length; i++) {
      const want = pattern[i];
      if (want !== null && data[i] !== want) return null;
    }
    return NO_CAPTURES;
  };
}
