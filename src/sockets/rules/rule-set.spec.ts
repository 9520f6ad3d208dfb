import { RuleInvalid } from './spec-reader';
import { RuleSet, compileRuleSet } from './rule-set';
import { RuleRunner } from './rule-runner';

const LIMITS = { maxRules: 10, maxPatternBytes: 64, maxReplyBytes: 64 };
const compile = (spec: unknown, kind: 'tcp' | 'udp' = 'tcp'): RuleSet => compileRuleSet(spec, kind, LIMITS);
const refusal = (spec: unknown, kind: 'tcp' | 'udp' = 'tcp'): { field: string; message: string } => {
  try {
    compile(spec, kind);
  } catch (err) {
    if (err instanceof RuleInvalid) return { field: err.field, message: err.message };
    throw err;
  }
  throw new Error('compiled');
};
const reply = (set: RuleSet, data: string): string | null => {
  const match = new RuleRunner(set, () => undefined).decide('frame', Buffer.from(data));
  const send = match?.actions.find((action) => action.kind === 'send');
  return send?.kind === 'send' ? (send.reply.render(Buffer.from(data), match!.captures)?.toString('latin1') ?? null) : null;
};

describe('compileRuleSet', () => {
  it('matches text, bytes with wildcards, regex captures by number and name, all/any/not', () => {
    expect(reply(compile({ rules: [{ match: { equals: 'hi' }, then: [{ send: 'yes' }] }] }), 'hi')).toBe('yes');
    expect(reply(compile({ rules: [{ match: { equals: 'hi' }, then: [{ send: 'yes' }] }] }), 'hi!')).toBeNull();
    expect(reply(compile({ rules: [{ match: { contains: 'HI', ignoreCase: true }, then: [{ send: 'yes' }] }] }), 'oh hi')).toBe('yes');
    expect(reply(compile({ rules: [{ match: { startsWith: 'ab', endsWith: 'yz' }, then: [{ send: 'yes' }] }] }), 'ab-yz')).toBe('yes');
    expect(reply(compile({ rules: [{ match: { startsWith: '6869', encoding: 'hex' }, then: [{ send: 'yes' }] }] }), 'hit')).toBe('yes');
    expect(reply(compile({ rules: [{ match: { bytes: '68 ?? 74' }, then: [{ send: 'yes' }] }] }), 'hot')).toBe('yes');
    expect(reply(compile({ rules: [{ match: { bytes: '68??74ff' }, then: [{ send: 'yes' }] }] }), 'hot')).toBeNull();
    const regex = compile({ rules: [{ match: { regex: '^GET (\\w+) (?P<v>\\d+)$' }, then: [{ send: '${1}=${v} [${frame}] $${1}' }] }] });
    expect(reply(regex, 'GET a 12')).toBe('a=12 [GET a 12] ${1}');
    const logic = compile({ rules: [{ match: { any: [{ equals: 'a' }, { all: [{ startsWith: 'b' }, { not: { endsWith: 'x' } }] }] }, then: [{ send: 'ok' }] }] });
    expect(['a', 'bc', 'bx', 'c'].map((data) => reply(logic, data))).toEqual(['ok', 'ok', null, null]);
  });

  it('fills ${…} in a hex reply with bytes, and regex groups of a hex form go back as the bytes they spell', () => {
    const set = compile({ rules: [{ match: { regex: '^(..)', encoding: 'hex' }, then: [{ send: 'ff${1}00', encoding: 'hex' }] }] });
    expect(reply(set, '\x41BC')).toBe('\xff\x41\x00');
  });

  it('matches a utf8 regex on the frame as UTF-8 and sends its groups back as the bytes the peer sent, invalid ones too', () => {
    const set = compile({ rules: [{ match: { regex: '^NAME (?P<name>.+)$' }, then: [{ send: 'HELLO ${name}' }, { keep: true }] }] });
    const frame = Buffer.from([...Buffer.from('NAME '), 0xc3, 0xa9, 0xff, 0x41]);
    const match = new RuleRunner(set, () => undefined).decide('frame', frame);
    const send = match?.actions.find((action) => action.kind === 'send');
    const sent = send?.kind === 'send' ? send.reply.render(frame, match!.captures) : null;
    // é as its two bytes, and 0xff as it came rather than as U+FFFD's three.
    expect(sent?.toString('hex')).toBe(Buffer.from([...Buffer.from('HELLO '), 0xc3, 0xa9, 0xff, 0x41]).toString('hex'));
    expect(reply(compile({ rules: [{ match: { regex: '^é+$' }, then: [{ send: 'yes' }] }] }), 'éé')).toBe('yes');
  });

  it('refuses with the path of the field at fault', () => {
    expect(refusal({})).toEqual({ field: 'rules', message: 'rules is required' });
    expect(refusal({ rules: [{ on: 'datagram', then: [] }] }).field).toBe('rules[0].on');
    expect(refusal({ rules: [{ then: [{ close: 'fin' }] }] }, 'udp').field).toBe('rules[0].then[0].close');
    expect(refusal({ rules: [{ on: 'idle', then: [] }] }).field).toBe('rules[0].idleMs');
    expect(refusal({ rules: [{ match: { equals: 'x'.repeat(65) }, then: [] }] })).toEqual({ field: 'rules[0].match.equals', message: 'rules[0].match.equals is 65 bytes, over the limit of 64' });
    expect(refusal({ rules: [{ then: [{ send: 'zz', encoding: 'hex' }] }] }).field).toBe('rules[0].then[0].send');
    expect(refusal({ rules: [{ then: [{ send: 'a', to: { host: '127.0.0.1', port: 9 } }] }] }).field).toBe('rules[0].then[0].to');
    expect(refusal({ rules: [{ responses: [], then: [] }] }).field).toBe('rules[0].then');
  });

  it('refuses a reply that names a capture its match can never give, or a frame its trigger has none of', () => {
    const send = (match: object | undefined, text: string, on?: string): unknown => ({ rules: [{ on, match, then: [{ keep: true }, { send: text }] }] });
    expect(refusal(send({ regex: '(a)' }, '${2}'))).toEqual({
      field: 'rules[0].then[1].send',
      message: 'rules[0].then[1].send: ${2} names a regex group the match does not have (it has 1); write $${ for a literal ${',
    });
    expect(refusal(send({ regex: '(?P<a>x)' }, '${b}')).field).toBe('rules[0].then[1].send');
    expect(refusal(send({ equals: 'x' }, '${1}')).message).toMatch(/no regex with groups/);
    expect(refusal(send(undefined, '${0}')).field).toBe('rules[0].then[1].send');
    expect(refusal(send({ not: { regex: '(a)' } }, '${1}')).field).toBe('rules[0].then[1].send');
    expect(refusal(send({ any: [{ regex: '(?P<a>x)' }, { equals: 'y' }] }, '${a}')).field).toBe('rules[0].then[1].send');
    expect(refusal(send({ any: [{ regex: '(x)' }, { equals: 'y' }] }, '${1}')).message).toMatch(/not every branch/);
    expect(refusal(send(undefined, '${frame}', 'connect')).message).toMatch(/no frame to fill it on: connect/);
    expect(refusal(send(undefined, '${frame}', 'peer-end')).field).toBe('rules[0].then[1].send');
    expect(refusal({ rules: [{ on: 'idle', idleMs: 5, then: [{ sendSlowly: '${frame}' }] }] }).field).toBe('rules[0].then[0].sendSlowly');
    expect(refusal({ rules: [{ match: { regex: '(a)' }, responses: [{ then: [{ send: '${1}' }] }, { then: [{ send: '${2}' }] }] }] }).field).toBe('rules[0].responses[1].then[0].send');
    // What the match does give compiles: all adds up named groups, every any branch giving one is enough.
    const all = compile(send({ all: [{ regex: '^(?P<a>\\w)' }, { regex: '(?P<b>\\w)$' }] }, '${a}${b}'));
    expect(reply(all, 'xy')).toBe('xy');
    const any = compile(send({ any: [{ regex: '^a(?P<v>\\d)' }, { regex: '^b(?P<v>\\d)(\\d)' }] }, '${v}${1}'));
    expect([reply(any, 'a1'), reply(any, 'b23')]).toEqual(['11', '22']);
    expect(reply(compile(send(undefined, '$${1} ${frame}')), 'f')).toBe('${1} f');
    expect(compile(send(undefined, 'hi $${0}', 'connect')).rules).toHaveLength(1);
  });

  it('refuses a condition on the data for connect, idle and peer-end, which see none; state is taken', () => {
    expect(refusal({ rules: [{ on: 'connect', match: { equals: 'x' }, then: [{ keep: true }] }] })).toEqual({
      field: 'rules[0].match.equals',
      message: 'rules[0].match.equals: on: connect sees no data; give it no condition, or only state',
    });
    expect(refusal({ rules: [{ on: 'peer-end', match: { state: 'a', not: { regex: 'x' } }, then: [{ keep: true }] }] }).field).toBe('rules[0].match.not.regex');
    expect(refusal({ rules: [{ on: 'idle', idleMs: 5, match: { any: [{ state: 'a' }, { all: [{ bytes: '00' }] }] }, then: [{ keep: true }] }] }).field).toBe('rules[0].match.any[1].all[0].bytes');
    expect(compile({ rules: [{ on: 'connect', match: { any: [{ state: 'a' }, { not: { state: 'b' } }] }, then: [{ keep: true }] }] }).rules).toHaveLength(1);
  });

  it('refuses empty names, empty all and any lists, and ignoreCase where it would change nothing', () => {
    const keep = [{ keep: true }];
    expect(refusal({ rules: [{ id: '', then: keep }] })).toEqual({ field: 'rules[0].id', message: 'rules[0].id must not be empty' });
    expect(refusal({ rules: [{ then: [{ keep: true }, { setState: '' }] }] }).field).toBe('rules[0].then[1].setState');
    expect(refusal({ initialState: '', rules: [] }).field).toBe('initialState');
    expect(refusal({ rules: [{ match: { not: { state: '' } }, then: keep }] }).field).toBe('rules[0].match.not.state');
    expect(refusal({ rules: [{ match: { any: [] }, then: keep }] })).toEqual({ field: 'rules[0].match.any', message: 'rules[0].match.any is empty; give at least one condition, or leave any out' });
    expect(refusal({ rules: [{ match: { any: [{ all: [] }] }, then: keep }] }).field).toBe('rules[0].match.any[0].all');
    expect(refusal({ rules: [{ match: { equals: '41', encoding: 'hex', ignoreCase: true }, then: keep }] }).field).toBe('rules[0].match.ignoreCase');
    expect(refusal({ rules: [{ match: { bytes: '41', ignoreCase: true }, then: keep }] }).field).toBe('rules[0].match.ignoreCase');
    expect(refusal({ rules: [{ match: { state: 'a', ignoreCase: true }, then: keep }] }).field).toBe('rules[0].match.ignoreCase');
    // Where it does change something it is taken: utf8 text, a regex (on any form), or false.
    expect(reply(compile({ rules: [{ match: { regex: '^4A', encoding: 'hex', ignoreCase: true }, then: [{ send: 'y' }] }] }), 'J')).toBe('y');
    expect(compile({ rules: [{ match: { bytes: '41', ignoreCase: false }, then: keep }] }).rules).toHaveLength(1);
  });

  it('refuses conditions nested past the depth limit instead of overflowing the stack', () => {
    const nested = (depth: number, key: 'not' | 'any'): object =>
      Array.from({ length: depth }).reduce<object>((inner) => (key === 'not' ? { not: inner } : { any: [inner] }), { equals: 'x' });
    expect(reply(compile({ rules: [{ match: nested(16, 'not'), then: [{ send: 'yes' }] }] }), 'x')).toBe('yes');
    expect(refusal({ rules: [{ match: nested(17, 'not'), then: [] }] }).field).toBe(`rules[0].match${'.not'.repeat(17)}`);
    expect(refusal({ rules: [{ match: nested(20_000, 'any'), then: [] }] }).message).toMatch(/more than 16 levels deep/);
  });
});

describe('RuleRunner', () => {
  it('passes over spent rules, cycles responses, moves states at once, and counts on the set too', () => {
    const set = compile({
      initialState: 'a',
      rules: [
        { id: 'in-b', match: { state: 'b' }, then: [{ send: 'b' }] },
        { id: 'once', match: { equals: 'x' }, times: 1, then: [{ send: 'first' }] },
        { id: 'turns', match: { equals: 'x' }, responses: [{ then: [{ send: '1' }] }, { then: [{ send: '2' }, { setState: 'b' }] }] },
      ],
    });
    const matched: string[] = [];
    const runner = new RuleRunner(set, (rule) => matched.push(rule.id));
    const answer = (): string => {
      const match = runner.decide('frame', Buffer.from('x'));
      const send = match?.actions[0];
      return send?.kind === 'send' ? (send.reply.render(Buffer.alloc(0), match!.captures)?.toString() ?? '') : '';
    };
    expect([answer(), answer(), answer(), answer()]).toEqual(['first', '1', '2', 'b']);
    expect(runner.state).toBe('b');
    expect(matched).toEqual(['once', 'turns', 'turns', 'in-b']);
    expect(runner.status.map((s) => [s.rule.id, s.matches, s.remaining])).toEqual([
      ['in-b', 1, null],
      ['once', 1, 0],
      ['turns', 2, null],
    ]);
    expect(set.stats.map((s) => s.matches)).toEqual([1, 1, 2]);
    runner.replace(compile({ initialState: 'z', rules: [] }));
    expect(runner.state).toBe('b');
    expect(runner.decide('frame', Buffer.from('x'))).toBeNull();
  });

  it('runs a pathological regex in linear time', () => {
    const set = compile({ rules: [{ match: { regex: '(a+)+$' }, then: [{ keep: true }] }] });
    const started = process.hrtime.bigint();
    expect(new RuleRunner(set, () => undefined).decide('frame', Buffer.alloc(100_000, 'a'))).not.toBeNull();
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(2000);
  });
});
