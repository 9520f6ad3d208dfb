import { Captures, MatchInput } from './match';
import { CompiledRule, RuleAction, RuleSet } from './rule-set';
import { RuleTrigger } from './rule-spec';

/** A rule that matched: the answer it gives this time and what its regex captured. */
export interface RuleMatch {
  rule: CompiledRule;
  actions: readonly RuleAction[];
  captures: Captures;
}

/** One rule's use on one connection or socket. */
interface RuleUse {
  matches: number;
  lastMatchAt: Date | null;
  /** The next of its responses to give. */
  cursor: number;
}

/** A rule of the running set as reads show it. */
export interface RuleStatus {
  rule: CompiledRule;
  matches: number;
  lastMatchAt: Date | null;
  /** Matches left before it is spent; null = no limit. */
  remaining: number | null;
}

/**
 * Decides, for one connection or UDP socket, which rule answers each thing that happens: first
 * match wins, spent rules (`times`) are passed over, cycling responses advance, and the state
 * machine moves (`setState` takes effect at once, so the next frame is judged in the new
 * state). A new set replaces the old one between two frames.
 */
export class RuleRunner {
  private current: RuleSet;
  private uses: RuleUse[];
  private stateName: string | null;

  constructor(
    set: RuleSet,
    private readonly onMatched: (rule: CompiledRule, trigger: RuleTrigger, at: Date) => void,
  ) {
    this.current = set;
    this.uses = set.rules.map(() => ({ matches: 0, lastMatchAt: null, cursor: 0 }));
    this.stateName = set.initialState;
  }

  get set(): RuleSet {
    return this.current;
  }

  get state(): string | null {
    return this.stateName;
  }

  /** Runs `set` from the next frame on, its counts from zero; the state carries over (a state machine in progress goes on). */
  replace(set: RuleSet): void {
    this.current = set;
    this.uses = set.rules.map(() => ({ matches: 0, lastMatchAt: null, cursor: 0 }));
    this.stateName ??= set.initialState;
  }

  get status(): RuleStatus[] {
    return this.current.rules.map((rule, i) => {
      const use = this.uses[i];
      const counted = this.current.counting === 'shared' ? this.current.stats[i].matches : use.matches;
      return { rule, matches: use.matches, lastMatchAt: use.lastMatchAt, remaining: rule.times === null ? null : rule.times - counted };
    });
  }

  /** The first rule for `trigger` that matches `data` (which happened `at`), counted; null when none does. */
  decide(trigger: RuleTrigger, data: Buffer, at = new Date()): RuleMatch | null {
    const { rules, stats } = this.current;
    const input = new MatchInput(data, this.stateName);
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i];
      const use = this.uses[i];
      // Shared counting: every connection of the listener takes its turn from the set's counts.
      const turns = this.current.counting === 'shared' ? stats[i] : use;
      if (rule.on !== trigger || (rule.times !== null && turns.matches >= rule.times)) continue;
      const captures = rule.match(input);
      if (captures === null) continue;
      const actions = rule.responses[turns.cursor % rule.responses.length];
      use.matches++;
      use.lastMatchAt = at;
      use.cursor++;
      stats[i].matches++;
      stats[i].lastMatchAt = at;
      stats[i].cursor++;
      for (const action of actions) if (action.kind === 'setState') this.stateName = action.state;
      this.onMatched(rule, trigger, at);
      return { rule, actions, captures };
    }
    return null;
  }
}

/** Whether the frame a decision was about stays in the log: an explicit keep or discard, else the set's default. */
export function keepsFrame(match: RuleMatch | null, set: RuleSet): boolean {
  if (match === null) return set.fallback === 'keep';
  for (const action of match.actions) {
    if (action.kind === 'discard') return false;
    if (action.kind === 'keep') return true;
  }
  return true;
}
