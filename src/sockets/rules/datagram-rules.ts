import { Endpoint } from '../socket-types';
import { Captures } from './match';
import { CompiledRule, RuleAction, RuleSet } from './rule-set';
import { RuleMatch, keepsFrame } from './rule-runner';
import { RunningRules } from './running-rules';

/** What the host of UDP rules does for them: send a datagram (null: back to the sender), and publish a match. */
export interface DatagramRuleHooks {
  send(bytes: Buffer, destination: { host: string; port: number } | null, sender: Endpoint): Promise<unknown>;
  matched(rule: CompiledRule, seq: number): void;
}

/**
 * A UDP socket's reply rules at work: each datagram is judged as it arrives (before it is
 * logged, so a `discard` keeps it out of the log), and the answers go out one after another,
 * to the sender unless a rule names another destination.
 */
export class DatagramRules extends RunningRules {
  constructor(
    set: RuleSet,
    private readonly hooks: DatagramRuleHooks,
  ) {
    super(set);
  }

  /** The rule that answers this datagram, if any; call `settle` once it has its sequence number. */
  decide(datagram: Buffer): RuleMatch | null {
    return this.queue.isDisposed ? null : this.runner.decide('datagram', datagram);
  }

  keeps(match: RuleMatch | null): boolean {
    return keepsFrame(match, this.runner.set);
  }

  settle(match: RuleMatch | null, datagram: Buffer, sender: Endpoint, seq: number): void {
    if (match === null) return;
    this.hooks.matched(match.rule, seq);
    const { actions, captures } = match;
    this.queue.enqueue(async () => {
      for (const action of actions) if (!(await this.perform(action, datagram, captures, sender))) return;
    });
  }

  /** Published once the datagram has its sequence number (`settle`). */
  protected matched(): void {
    return;
  }

  private async perform(action: RuleAction, datagram: Buffer, captures: Captures, sender: Endpoint): Promise<boolean> {
    switch (action.kind) {
      case 'send': {
        const reply = action.reply.render(datagram, captures);
        if (reply !== null) await this.hooks.send(reply, action.to, sender);
        return true;
      }
      case 'delay':
        return this.queue.sleep(action.ms);
      default:
        // setState, keep and discard were taken when the rule was chosen; the rest are TCP's.
        return true;
    }
  }
}
