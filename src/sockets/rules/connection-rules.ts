import { Frame } from '../framing/frame-log';
import { ActionQueue } from './action-queue';
import { Captures } from './match';
import { CompiledRule, RuleAction, RuleSet } from './rule-set';
import { RuleMatch, RuleRunner, RuleStatus, keepsFrame } from './rule-runner';
import { RuleTrigger, TlsRole } from './rule-spec';

/** What rules need of a TCP connection (`TcpConnection` is one). */
export interface RuleConnection {
  readonly id: string;
  readonly state: string;
  send(chunks: readonly Buffer[], end: boolean): Promise<unknown>;
  sendFrames(payloads: readonly Buffer[], end: boolean): Promise<unknown>;
  close(mode: 'graceful' | 'reset'): Promise<void>;
  releaseUpTo(offset: number): void;
  releaseFramesUpTo(index: number): void;
}

/** What the host of the rules does for them: start TLS in a role, and publish a match. */
export interface ConnectionRuleHooks {
  startTls(role: TlsRole): Promise<void>;
  matched(rule: CompiledRule, trigger: RuleTrigger, index: number | null): void;
}

const EMPTY = Buffer.alloc(0);

/**
 * A connection's reply rules at work. The connection tells it what reached its byte log: each
 * frame (once framing indexed it), or each received chunk when the connection has no framing;
 * the peer's FIN; its close. It decides at once (so the state machine and the log follow frame
 * order) and answers through the connection's own send path, one answer after another.
 */
export class ConnectionRules {
  private readonly runner: RuleRunner;
  private readonly queue = new ActionQueue();
  private idle: NodeJS.Timeout | null = null;
  private pendingIndex: number | null = null;

  constructor(
    private readonly connection: RuleConnection,
    set: RuleSet,
    private readonly hooks: ConnectionRuleHooks,
  ) {
    this.runner = new RuleRunner(set, (rule, trigger) => this.hooks.matched(rule, trigger, this.pendingIndex));
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

  /** A new set from the next frame on; the idle timer follows its idle rules. */
  replace(set: RuleSet): void {
    this.runner.replace(set);
    this.armIdle();
  }

  /** The connection opened: greetings go out. */
  connected(): void {
    this.fire('connect', EMPTY, null);
    this.armIdle();
  }

  /** A received chunk reached the byte log at `from`; without framing it is what rules judge. */
  received(chunk: Buffer, from: number, framed: boolean): void {
    this.armIdle();
    if (framed) return;
    const match = this.decide('frame', chunk, null);
    if (!keepsFrame(match, this.runner.set)) this.connection.releaseUpTo(from + chunk.length);
    this.settle(match, chunk);
  }

  /** Framing indexed a frame; `data` is its data, when the byte log holds it. */
  frame(frame: Frame, data: Buffer | undefined): void {
    const payload = data ?? EMPTY;
    const match = this.decide('frame', payload, frame.index);
    if (!keepsFrame(match, this.runner.set)) this.connection.releaseFramesUpTo(frame.index + 1);
    this.settle(match, payload);
  }

  peerEnded(): void {
    this.fire('peer-end', EMPTY, null);
  }

  /** The connection closed: nothing more is sent, no timer is left. */
  dispose(): void {
    this.queue.dispose();
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
  }

  private fire(trigger: RuleTrigger, data: Buffer, index: number | null): void {
    const match = this.decide(trigger, data, index);
    if (match) this.answer(match.actions, data, match.captures);
  }

  private decide(trigger: RuleTrigger, data: Buffer, index: number | null): RuleMatch | null {
    if (this.queue.isDisposed) return null;
    this.pendingIndex = index;
    return this.runner.decide(trigger, data);
  }

  /** A frame no rule answered may close the connection (the set's default); a matched one gets its answer. */
  private settle(match: RuleMatch | null, data: Buffer): void {
    if (match) this.answer(match.actions, data, match.captures);
    else if (this.runner.set.fallback === 'close') this.queue.enqueue(() => this.connection.close('graceful'));
  }

  private armIdle(): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    const ms = this.runner.set.idleMs;
    if (ms === null || this.queue.isDisposed) return;
    this.idle = setTimeout(() => {
      this.idle = null;
      this.fire('idle', EMPTY, null);
    }, ms);
    this.idle.unref();
  }

  private answer(actions: readonly RuleAction[], frame: Buffer, captures: Captures): void {
    this.queue.enqueue(async () => {
      for (const action of actions) if (!(await this.perform(action, frame, captures))) return;
    });
  }

  /** One action; false stops the rest of the answer (the connection closed, or TLS did not start). */
  private async perform(action: RuleAction, frame: Buffer, captures: Captures): Promise<boolean> {
    if (this.connection.state === 'closed') return false;
    switch (action.kind) {
      case 'send': {
        const reply = action.reply.render(frame, captures);
        if (reply === null) return true;
        await (action.frame ? this.connection.sendFrames([reply], false) : this.connection.send([reply], false));
        return true;
      }
      case 'sendSlowly': {
        const reply = action.reply.render(frame, captures);
        if (reply === null) return true;
        for (let at = 0; at < reply.length; at += action.chunkBytes) {
          if (at > 0 && !(await this.queue.sleep(action.intervalMs))) return false;
          await this.connection.send([reply.subarray(at, at + action.chunkBytes)], false);
        }
        return true;
      }
      case 'delay':
        return this.queue.sleep(action.ms);
      case 'close':
        await this.connection.close(action.mode === 'rst' ? 'reset' : 'graceful');
        return false;
      case 'startTls':
        await this.hooks.startTls(action.role);
        return true;
      case 'setState':
      case 'keep':
      case 'discard':
        // Taken when the rule was chosen, so the next frame already sees them.
        return true;
    }
  }
}
