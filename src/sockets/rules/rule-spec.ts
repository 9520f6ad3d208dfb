import { PayloadEncoding } from '../payload-codec';

/** When a rule is looked at: a connection opening, a frame (or chunk), silence, the peer's FIN, a UDP datagram. */
export const RULE_TRIGGERS = ['connect', 'frame', 'idle', 'peer-end', 'datagram'] as const;
export type RuleTrigger = (typeof RULE_TRIGGERS)[number];

/** What happens to a frame no rule matched: kept for reads, released, or the connection closed. */
export const RULE_DEFAULTS = ['keep', 'discard', 'close'] as const;
export type RuleDefault = (typeof RULE_DEFAULTS)[number];

export const CLOSE_MODES = ['fin', 'rst'] as const;
export type CloseMode = (typeof CLOSE_MODES)[number];

export const TLS_ROLES = ['server', 'client'] as const;
export type TlsRole = (typeof TLS_ROLES)[number];

/**
 * A condition on a frame, as a caller writes it: every condition given must hold. Text
 * conditions compare bytes (`encoding` says how the pattern is written); `regex` runs on the
 * frame as text in `encoding` (utf8, or its hex or base64 form).
 */
export interface MatchSpec {
  equals?: string;
  contains?: string;
  startsWith?: string;
  endsWith?: string;
  regex?: string;
  /** Hex bytes the frame starts with, `??` for any byte: `de ad ?? ef`. */
  bytes?: string;
  encoding?: PayloadEncoding;
  ignoreCase?: boolean;
  /** The connection's (or UDP socket's) current state name. */
  state?: string;
  all?: MatchSpec[];
  any?: MatchSpec[];
  not?: MatchSpec;
}

/** One step of a rule's answer; exactly one of the verbs is given. */
export interface ActionSpec {
  /** Bytes to send, in `encoding`; `${1}`, `${name}` (regex captures) and `${frame}` are replaced, `$${` writes `${`. */
  send?: string;
  /** Like `send`, in pieces of `chunkBytes` every `intervalMs`. */
  sendSlowly?: string;
  encoding?: PayloadEncoding;
  /** `send` as one frame of the connection's framing (its delimiter or length prefix added). */
  frame?: boolean;
  /** UDP: where `send` goes instead of the sender. */
  to?: { host: string; port: number };
  chunkBytes?: number;
  intervalMs?: number;
  delayMs?: number;
  close?: CloseMode;
  setState?: string;
  startTls?: TlsRole;
  keep?: boolean;
  discard?: boolean;
}

export interface ResponseSpec {
  then: ActionSpec[];
}

export interface RuleSpec {
  /** Unique in its set; `rule-<n>` (its position from 1) when not given. */
  id?: string;
  on?: RuleTrigger;
  /** For `on: idle`: the silence, in ms, that fires it. */
  idleMs?: number;
  match?: MatchSpec;
  then?: ActionSpec[];
  /** Answers used in turn, one per match, starting over after the last (mountebank's circular responses). */
  responses?: ResponseSpec[];
  /** Matches after which the rule is spent. */
  times?: number;
}

export interface RuleSetSpec {
  rules: RuleSpec[];
  default?: RuleDefault;
  /** The state a connection (or UDP socket) starts in; null when not given. */
  initialState?: string;
  /**
   * Whose turn `times` and cycling `responses` count: each connection's own (the default), or
   * every connection of the listener together (mountebank's stubs count imposter-wide).
   */
  counting?: RuleCounting;
}

export const RULE_COUNTINGS = ['per-connection', 'shared'] as const;
export type RuleCounting = (typeof RULE_COUNTINGS)[number];

/** How big a rule set may be; the settings fill it. */
export interface RuleLimits {
  maxRules: number;
  /** Bytes of one pattern (a match string or regex). */
  maxPatternBytes: number;
  /** Bytes of one reply as written (before `${…}` is replaced) and as sent. */
  maxReplyBytes: number;
}
