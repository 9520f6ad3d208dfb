import { ActionQueue } from './action-queue';
import { CompiledRule, RuleSet } from './rule-set';
import { RuleRunner, RuleStatus } from './rule-runner';
import { RuleTrigger } from './rule-spec';

/** A rule set at work on one connection or UDP socket: its runner (state, counts, turns) and the queue its answers run on. */
export abstract class RunningRules {
  protected readonly runner: RuleRunner;
  protected readonly queue = new ActionQueue();

  protected constructor(set: RuleSet) {
    this.runner = new RuleRunner(set, (rule, trigger, at) => this.matched(rule, trigger, at));
  }

  get set(): RuleSet {
    return this.runner.set;
  }

  get state(): string | null {
    return this.runner.state;
  }

  get status(): RuleStatus[] {
    return this.runner.status;
  }

  /** A new set from the next frame on; the state carries over. */
  replace(set: RuleSet): void {
    this.runner.replace(set);
  }

  /** Closed: nothing more is sent, no timer is left. */
  dispose(): void {
    this.queue.dispose();
  }

  /** A rule was chosen, in the turn the frame arrived (`at`). */
  protected abstract matched(rule: CompiledRule, trigger: RuleTrigger, at: Date): void;
}
