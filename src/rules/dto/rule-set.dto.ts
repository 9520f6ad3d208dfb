import { ApiProperty } from '@nestjs/swagger';
import { IsBooleanField, IsEncoding, IsIntegerField, IsNestedList, IsNestedObject, IsOneOf, IsPort, IsLooseObject, IsText } from '../../common/validation';
import { PayloadEncoding } from '../../sockets/payload-codec';
import { RuleStatus } from '../../sockets/rules/rule-runner';
import { RuleSet } from '../../sockets/rules/rule-set';
import { CLOSE_MODES, CloseMode, RULE_COUNTINGS, RULE_DEFAULTS, RULE_TRIGGERS, RuleCounting, RuleDefault, RuleSetSpec, RuleSpec, RuleTrigger, TLS_ROLES, TlsRole } from '../../sockets/rules/rule-spec';

/** A condition on a frame (docs/rules.md); every condition given must hold. */
export class MatchDto {
  @IsText({ description: 'The frame is exactly these bytes (written in `encoding`)', example: 'QUIT' })
  equals?: string;

  @IsText({ description: 'The frame holds these bytes somewhere', example: '@example.test' })
  contains?: string;

  @IsText({ description: 'The frame starts with these bytes', example: 'MAIL FROM:' })
  startsWith?: string;

  @IsText({ description: 'The frame ends with these bytes', example: '.com' })
  endsWith?: string;

  @IsText({
    description:
      'An RE2 regular expression (linear time: no backreferences or lookaround) found anywhere in the frame as text in `encoding` (utf8, or the frame’s hex or base64 form); its groups fill `${1}` and `${name}` in replies',
    example: '^GET (?P<key>\\w+)$',
  })
  regex?: string;

  @IsText({ description: 'Hex bytes the frame starts with, `??` for any byte (spaces optional)', example: '?? ?? 01 00 00 01' })
  bytes?: string;

  @IsEncoding({ description: 'How `equals`, `contains`, `startsWith` and `endsWith` are written, and the text form `regex` sees (default utf8)', default: undefined })
  encoding?: PayloadEncoding;

  @IsBooleanField({ description: 'Compare utf8 text and regex without regard to case (default false); refused on a condition with neither' })
  ignoreCase?: boolean;

  @IsText({ maxLength: 128, description: 'The connection’s (or UDP socket’s) current state, as `setState` left it (not empty)', example: 'greeted' })
  state?: string;

  @IsLooseObject(() => MatchDto, { maxItems: 32, description: 'Every one of these conditions holds (at least one condition)' })
  all?: MatchDto[];

  @IsLooseObject(() => MatchDto, { maxItems: 32, description: 'At least one of these conditions holds (the first that does gives the captures, so a reply may use only the groups every one gives; at least one condition)' })
  any?: MatchDto[];

  @IsLooseObject(() => MatchDto, { description: 'This condition does not hold' })
  not?: MatchDto;
}

export class DestinationDto {
  @IsText({ required: true, maxLength: 253, description: 'Host to send to', example: '127.0.0.1' })
  host!: string;

  @IsPort({ allowZero: false, description: 'Port to send to', example: 5353 })
  port!: number;
}

/** One step of an answer: exactly one verb (`send`, `sendSlowly`, `delayMs`, `close`, `setState`, `startTls`, `keep`, `discard`). */
export class ActionDto {
  @IsText({ description: 'Send these bytes (in `encoding`); `${frame}` is the frame, `${1}` and `${name}` regex groups, `$${` a literal `${`; one the rule can never fill is refused', example: '250 OK\r\n' })
  send?: string;

  @IsText({ description: 'Send these bytes `chunkBytes` at a time, `intervalMs` apart (TCP)', example: 'slow reply\r\n' })
  sendSlowly?: string;

  @IsEncoding({ description: 'How `send` or `sendSlowly` is written (default utf8); `${…}` is filled in with bytes whatever it is', default: undefined })
  encoding?: PayloadEncoding;

  @IsBooleanField({ description: '`send` as one frame of the connection’s framing (its delimiter or length prefix added)' })
  frame?: boolean;

  @IsNestedObject(DestinationDto, { description: 'UDP: send there instead of back to the sender' })
  to?: DestinationDto;

  @IsIntegerField({ min: 1, max: 65_536, description: '`sendSlowly`: bytes per piece (default 1)', example: 4 })
  chunkBytes?: number;

  @IsIntegerField({ min: 0, max: 60_000, description: '`sendSlowly`: ms between pieces (default 10)', example: 50 })
  intervalMs?: number;

  @IsIntegerField({ min: 0, max: 600_000, description: 'Wait this long before the next action', example: 100 })
  delayMs?: number;

  @IsOneOf(CLOSE_MODES, { description: 'Close the connection: `fin` (graceful) or `rst` (reset)', example: 'fin' })
  close?: CloseMode;

  @IsText({ maxLength: 128, description: 'Move to this state (taken at once: the next frame is judged in it; not empty)', example: 'greeted' })
  setState?: string;

  @IsOneOf(TLS_ROLES, { description: 'Start TLS on the connection in this role (STARTTLS), after what was sent before it', example: 'server' })
  startTls?: TlsRole;

  @IsBooleanField({ description: 'Keep the frame in the logs for reads (the default for a matched frame)' })
  keep?: boolean;

  @IsBooleanField({ description: 'Release the log up to the end of this frame, once answered (earlier frames go too)' })
  discard?: boolean;
}

export class ResponseDto {
  @IsNestedList(ActionDto, { minItems: 0, maxItems: 32, description: 'The actions of this answer, in order' })
  then!: ActionDto[];
}

export class RuleDto {
  @IsText({ maxLength: 128, description: 'Unique in the set and not empty; `rule-<n>` (its position from 1) when not given', example: 'ehlo' })
  id?: string;

  @IsOneOf(RULE_TRIGGERS, {
    description: 'When it is looked at: `frame` (default on TCP: a frame, or a received chunk without framing), `connect` (a greeting), `idle`, `peer-end`; `datagram` (UDP, its only one)',
    example: 'frame',
  })
  on?: RuleTrigger;

  @IsIntegerField({ min: 1, max: 86_400_000, description: '`on: idle`: ms without received bytes that fire it', example: 5000 })
  idleMs?: number;

  @IsNestedObject(MatchDto, { description: 'The condition; omitted: it matches everything' })
  match?: MatchDto;

  @IsNestedList(ActionDto, { minItems: 0, maxItems: 32, description: 'The answer: actions in order (or give `responses`)' })
  then?: ActionDto[];

  @IsNestedList(ResponseDto, { minItems: 1, maxItems: 64, description: 'Answers used in turn, one per match, starting over after the last (instead of `then`)' })
  responses?: ResponseDto[];

  @IsIntegerField({ min: 1, max: 1_000_000_000, description: 'Matches after which the rule is spent (per connection or socket)', example: 1 })
  times?: number;
}

/** An ordered list of reply rules: first match wins. */
export class RuleSetDto {
  @IsNestedList(RuleDto, { minItems: 0, maxItems: 10_000, description: 'The rules, in order (at most SOCKPLANE_RULES_MAX_RULES)' })
  rules!: RuleDto[];

  @IsOneOf(RULE_DEFAULTS, { description: 'What happens to a frame no rule matched: `keep` (default), `discard`, or `close` the connection', example: 'keep' })
  default?: RuleDefault;

  @IsText({ maxLength: 128, description: 'The state a connection (or UDP socket) starts in (not empty)', example: 'start' })
  initialState?: string;

  @IsOneOf(RULE_COUNTINGS, {
    description: 'Whose turn `times` and `responses` count on a listener: each connection’s own (`per-connection`, the default), or all its connections together (`shared`, as mountebank’s stubs do)',
    example: 'per-connection',
  })
  counting?: RuleCounting;
}

export class RuleStatusDto {
  @ApiProperty({ example: 'ehlo' })
  id!: string;

  @ApiProperty({ enum: RULE_TRIGGERS, example: 'frame' })
  on!: RuleTrigger;

  @ApiProperty({ description: 'Times it matched', example: 1 })
  matches!: number;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: '2026-12-07T16:30:00.000Z' })
  lastMatchAt!: string | null;

  @ApiProperty({ type: Number, nullable: true, description: 'Matches left before it is spent; null: no `times`, or on a listener whose connections count their own', example: null })
  remaining!: number | null;

  @ApiProperty({ type: Object, description: 'The rule as it was given' })
  spec!: RuleSpec;
}

/** The rules of a listener, connection or UDP socket, with their counts. */
export class RulesDto {
  @ApiProperty({ type: [RuleStatusDto] })
  rules!: RuleStatusDto[];

  @ApiProperty({ enum: RULE_DEFAULTS, example: 'keep' })
  default!: RuleDefault;

  @ApiProperty({ type: String, nullable: true, example: 'start' })
  initialState!: string | null;

  @ApiProperty({ enum: RULE_COUNTINGS, example: 'per-connection' })
  counting!: RuleCounting;

  @ApiProperty({ type: String, nullable: true, description: 'The current state (connections and UDP sockets; null on a listener)', example: 'greeted' })
  state!: string | null;
}

export const NO_RULES: RulesDto = { rules: [], default: 'keep', initialState: null, counting: 'per-connection', state: null };

/** A listener's rules: the matches of all the connections that ran them. */
export function toListenerRulesDto(set: RuleSet | null): RulesDto {
  if (set === null) return NO_RULES;
  return {
    rules: set.rules.map((rule, i) => ({
      id: rule.id,
      on: rule.on,
      matches: set.stats[i].matches,
      lastMatchAt: set.stats[i].lastMatchAt?.toISOString() ?? null,
      remaining: set.counting === 'shared' && rule.times !== null ? rule.times - set.stats[i].matches : null,
      spec: set.spec.rules[i],
    })),
    default: set.fallback,
    initialState: set.initialState,
    counting: set.counting,
    state: null,
  };
}

/** A connection's or UDP socket's rules: its own matches and state. */
export function toRunningRulesDto(running: { set: RuleSet; status: RuleStatus[]; state: string | null } | null): RulesDto {
  if (running === null) return NO_RULES;
  const { set } = running;
  return {
    rules: running.status.map((status, i) => ({
      id: status.rule.id,
      on: status.rule.on,
      matches: status.matches,
      lastMatchAt: status.lastMatchAt?.toISOString() ?? null,
      remaining: status.remaining,
      spec: set.spec.rules[i],
    })),
    default: set.fallback,
    initialState: set.initialState,
    counting: set.counting,
    state: running.state,
  };
}

/** The rule set as written, for exports. */
export function toRuleSetSpec(set: RuleSet | null): RuleSetSpec | null {
  return set === null ? null : set.spec;
}
