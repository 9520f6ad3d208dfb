import { RE2JS, RE2JSException } from 're2js';
import { PayloadEncoding, decodePayload } from '../payload-codec';
import { RuleLimits } from './rule-spec';
import { RuleInvalid, SpecReader } from './spec-reader';

/**
 * What a matched rule may put into its reply: regex groups by number and by name, as text in
 * the encoding the regex ran on (so groups of a frame's hex form go back as the bytes they spell).
 */
export interface Captures {
  numbered: readonly string[];
  named: Readonly<Record<string, string>>;
  encoding: PayloadEncoding;
}

export const NO_CAPTURES: Captures = { numbered: [], named: {}, encoding: 'utf8' };

/** A frame as matchers see it: its bytes, the current state, and its text forms, made once each on demand. */
export class MatchInput {
  private readonly texts = new Map<PayloadEncoding, string>();

  constructor(
    readonly data: Buffer,
    readonly state: string | null,
  ) {}

  text(encoding: PayloadEncoding): string {
    let text = this.texts.get(encoding);
    if (text === undefined) {
      text = this.data.toString(encoding);
      this.texts.set(encoding, text);
    }
    return text;
  }
}

/** A compiled condition: the captures it found (none for conditions without a regex) or null when it does not hold. */
export type Matcher = (input: MatchInput) => Captures | null;

const MATCH_KEYS = ['equals', 'contains', 'startsWith', 'endsWith', 'regex', 'bytes', 'encoding', 'ignoreCase', 'state', 'all', 'any', 'not'] as const;

/** Everything matches: a rule without `match`. */
export const ALWAYS: Matcher = () => NO_CAPTURES;

/** Compiles a condition once; refuses what is malformed or over the limits, naming the field. */
export function compileMatch(reader: SpecReader, limits: RuleLimits): Matcher {
  reader.onlyKeys(MATCH_KEYS);
  const encoding = reader.encoding('encoding');
  const ignoreCase = reader.boolean('ignoreCase') ?? false;
  const checks: Matcher[] = [];
  for (const kind of ['equals', 'contains', 'startsWith', 'endsWith'] as const) {
    const pattern = reader.text(kind, limits.maxPatternBytes);
    if (pattern === undefined) continue;
    const bytes = reader.at(kind, () => decodePayload(pattern, encoding, reader.path(kind)));
    checks.push(ignoreCase && encoding === 'utf8' ? textCheck(kind, pattern.toLowerCase()) : byteCheck(kind, bytes));
  }
  const regex = reader.text('regex', limits.maxPatternBytes);
  if (regex !== undefined) checks.push(regexCheck(reader, regex, encoding, ignoreCase));
  const bytes = reader.text('bytes', limits.maxPatternBytes);
  if (bytes !== undefined) checks.push(bytesCheck(reader.at('bytes', () => parseBytePattern(bytes))));
  const state = reader.text('state', limits.maxPatternBytes);
  if (state !== undefined) checks.push((input) => (input.state === state ? NO_CAPTURES : null));
  const all = reader.list('all', 32)?.map((item) => compileMatch(item, limits));
  if (all) checks.push(...all);
  const any = reader.list('any', 32)?.map((item) => compileMatch(item, limits));
  if (any) checks.push(anyOf(any));
  const not = reader.object('not');
  if (not) {
    const inner = compileMatch(not, limits);
    checks.push((input) => (inner(input) === null ? NO_CAPTURES : null));
  }
  return allOf(checks);
}

function allOf(checks: Matcher[]): Matcher {
  if (checks.length === 0) return ALWAYS;
  if (checks.length === 1) return checks[0];
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

function anyOf(checks: Matcher[]): Matcher {
  return (input) => {
    for (const check of checks) {
      const captures = check(input);
      if (captures !== null) return captures;
    }
    return null;
  };
}

function mergeCaptures(a: Captures, b: Captures): Captures {
  if (a === NO_CAPTURES) return b;
  return { numbered: b.numbered.length > 0 ? b.numbered : a.numbered, named: { ...a.named, ...b.named }, encoding: b.encoding };
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
function regexCheck(reader: SpecReader, source: string, encoding: PayloadEncoding, ignoreCase: boolean): Matcher {
  let pattern: RE2JS;
  try {
    pattern = RE2JS.compile(source, ignoreCase ? RE2JS.CASE_INSENSITIVE : 0);
  } catch (err) {
    const why = err instanceof RE2JSException ? err.message : String(err);
    throw new RuleInvalid(reader.path('regex'), `${reader.path('regex')} is not a valid RE2 pattern: ${why}`);
  }
  const groups = pattern.groupCount();
  const names = Object.keys(pattern.namedGroups());
  if (groups === 0) return (input) => (pattern.test(input.text(encoding)) ? NO_CAPTURES : null);
  return (input) => {
    const matcher = pattern.matcher(input.text(encoding));
    if (!matcher.find()) return null;
    const numbered: string[] = [];
    for (let i = 0; i <= groups; i++) numbered.push(matcher.group(i) ?? '');
    const named: Record<string, string> = {};
    for (const name of names) named[name] = matcher.group(name) ?? '';
    return { numbered, named, encoding };
  };
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
