import { ByteWriter } from '../byte-writer';
import { beginFrame, endFrame } from '../framing/frame-encoder';
import { Frame } from '../framing/frame-log';
import { Framing } from '../framing/framing';
import { Captures } from './match';
import { CompiledRule, RuleAction, RuleSet } from './rule-set';
import { RuleMatch, keepsFrame } from './rule-runner';
import { RuleTrigger, TlsRole } from './rule-spec';
import { RunningRules } from './running-rules';

/** What rules need of a TCP connection (`TcpConnection` is one). */
export interface RuleConnection {
  readonly state: string;
  send(chunks: readonly Buffer[], end: boolean): Promise<unknown>;
  /** Hands the bytes to the transport now; throws when the connection cannot take them. */
  sendNow(chunks: readonly Buffer[]): void;
  /** The framing its frames are cut and sent with; null when it has none. */
  readonly sendFraming: Framing | null;
  /** Counts frames it sent (written into a `sendNow` with the framing's delimiter or header). */
  countFramesSent(frames: number): void;
  /** Resolves once everything sent before the call was handed to the kernel. */
  whenWritten(): Promise<void>;
  close(mode: 'graceful' | 'reset'): Promise<void>;
  releaseUpTo(offset: number): void;
  releaseFramesUpTo(index: number): void;
}

/** What the host of the rules does for them: start TLS in a role, and publish a match. */
export interface ConnectionRuleHooks {
  startTls(role: TlsRole): Promise<void>;
  matched(rule: CompiledRule, trigger: RuleTrigger, index: number | null, at: Date): void;
}

const EMPTY = Buffer.alloc(0);

/** Actions that wait for nothing: an answer of only these can run at once. */
const IMMEDIATE = new Set<RuleAction['kind']>(['send', 'setState', 'keep', 'discard']);

/**
 * A connection's reply rules at work. The connection tells it what reached its byte log: each
 * frame (once framing indexed it), or each received chunk when the connection has no framing;
 * the peer's FIN; its close. It decides at once (so the state machine and the log follow frame
 * order) and answers through the connection's own send path, one answer after another.
 */
export class ConnectionRules extends RunningRules {
  private idle: NodeJS.Timeout | null = null;
  private pendingIndex: number | null = null;
  /** Replies of answers that ran at once, written one after another (framed ones with their framing), sent together once the chunk's frames are judged. */
  private readonly replies = new ByteWriter();
  /** How many of `replies` are frames. */
  private repliedFrames = 0;
  /** A received chunk is on its way through: its replies wait for `endChunk`, and so does the release of the frames it discarded. */
  private inChunk = false;
  /** Frames below this index were discarded during the chunk: released when it has been through. */
  private discardedTo: number | null = null;

  constructor(
    private readonly connection: RuleConnection,
    set: RuleSet,
    private readonly hooks: ConnectionRuleHooks,
  ) {
    super(set);
  }

  /** A new set from the next frame on; the idle timer follows its idle rules. */
  override replace(set: RuleSet): void {
    super.replace(set);
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
    const match = this.decide('frame', payload, frame.index, frame.receivedAt);
    if (!keepsFrame(match, this.runner.set)) {
      // Once per chunk rather than per frame: the chunk's frames are judged in one go, and nothing reads the log meanwhile.
      if (this.inChunk) this.discardedTo = frame.index + 1;
      else this.connection.releaseFramesUpTo(frame.index + 1);
    }
    this.settle(match, payload);
  }

  /** A received chunk goes through the connection's stages now: the replies to its frames wait for `endChunk`. */
  startChunk(): void {
    this.inChunk = true;
  }

  /** The chunk has been through: the frames it discarded are released, and the replies to its frames leave now, in one send. */
  endChunk(): void {
    this.inChunk = false;
    const discardedTo = this.discardedTo;
    this.discardedTo = null;
    if (discardedTo !== null && this.connection.state !== 'closed') this.connection.releaseFramesUpTo(discardedTo);
    this.flush();
  }

  peerEnded(): void {
    this.fire('peer-end', EMPTY, null);
  }

  /** The connection closed: nothing more is sent, no timer is left. */
  override dispose(): void {
    super.dispose();
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
  }

  protected matched(rule: CompiledRule, trigger: RuleTrigger, at: Date): void {
    this.hooks.matched(rule, trigger, this.pendingIndex, at);
  }

  private fire(trigger: RuleTrigger, data: Buffer, index: number | null): void {
    const match = this.decide(trigger, data, index);
    if (match) this.answer(match.actions, data, match.captures);
  }

  /** `at`: when what is judged arrived, for a frame the time framing gave it. */
  private decide(trigger: RuleTrigger, data: Buffer, index: number | null, at?: Date): RuleMatch | null {
    if (this.queue.isDisposed) return null;
    this.pendingIndex = index;
    return this.runner.decide(trigger, data, at);
  }

  /** A frame no rule answered may close the connection (the set's default); a matched one gets its answer. */
  private settle(match: RuleMatch | null, data: Buffer): void {
    if (match) this.answer(match.actions, data, match.captures);
    else if (this.runner.set.fallback === 'close') this.queue.enqueue(() => this.connection.close('graceful'));
  }

  /**
   * Adds a reply to the batch. The frames of one received chunk are judged one by one; their
   * replies leave in one send (as a server answering a pipelined batch writes once) when the
   * chunk has been through. A reply to anything else (a greeting, a chunk a stage held back)
   * leaves once the code that gave it has run, with the replies given alongside it. A reply over
   * the reply limit, or a framed one that does not fit the connection's framing (or that has
   * none), is not sent, as a send of it would be refused.
   */
  private gather(action: Extract<RuleAction, { kind: 'send' }>, frame: Buffer, captures: Captures): void {
    const out = this.replies;
    if (out.length === 0 && !this.inChunk) queueMicrotask(() => this.flush());
    if (!action.frame) {
      action.reply.writeTo(out, frame, captures);
      return;
    }
    const framing = this.connection.sendFraming;
    if (framing === null) return;
    const start = out.length;
    const payloadStart = beginFrame(framing, out);
    if (!action.reply.writeTo(out, frame, captures) || endFrame(framing, out, payloadStart) !== null) return out.truncate(start);
    this.repliedFrames++;
  }

  /** Sends the batch in one send; a send that fails (the connection closed, a peer that does not read) loses its replies only. */
  private flush(): void {
    if (this.replies.length === 0) return;
    const bytes = this.replies.take();
    const frames = this.repliedFrames;
    this.repliedFrames = 0;
    if (this.connection.state === 'closed') return;
    try {
      this.connection.sendNow([bytes]);
      this.connection.countFramesSent(frames);
    } catch {
      // Lost with this send only, as the caller of a send that failed would lose it.
    }
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
    // The common answer — sends, and choices already taken — needs no turn of its own when nothing is ahead of it.
    if (this.queue.isIdle && actions.every((action) => IMMEDIATE.has(action.kind))) {
      for (const action of actions) if (action.kind === 'send') this.gather(action, frame, captures);
      return;
    }
    this.queue.enqueue(async () => {
      const sends: Promise<unknown>[] = [];
      for (const action of actions) if (!(await this.perform(action, frame, captures, sends))) return;
    });
  }

  /**
   * One action; false stops the rest of the answer (the connection closed, or TLS did not
   * start). A send hands its bytes to the connection at once, in order, and is not waited for:
   * the answers of frames that arrived together leave in one write. What must follow the bytes
   * on the wire (a pause, a close, TLS) waits for the sends before it (`sends`).
   */
  private async perform(action: RuleAction, frame: Buffer, captures: Captures, sends: Promise<unknown>[]): Promise<boolean> {
    if (this.connection.state === 'closed') return false;
    const sent = async (): Promise<void> => {
      await Promise.all(sends.splice(0));
    };
    switch (action.kind) {
      case 'send': {
        // After the batch of answers that ran before this one, in order.
        this.gather(action, frame, captures);
        this.flush();
        sends.push(this.connection.whenWritten());
        return true;
      }
      case 'sendSlowly': {
        const reply = action.reply.render(frame, captures);
        if (reply === null) return true;
        await sent();
        for (let at = 0; at < reply.length; at += action.chunkBytes) {
          if (at > 0 && !(await this.queue.sleep(action.intervalMs))) return false;
          await this.connection.send([reply.subarray(at, at + action.chunkBytes)], false);
        }
        return true;
      }
      case 'delay':
        await sent();
        return this.queue.sleep(action.ms);
      case 'close':
        await sent();
        await this.connection.close(action.mode === 'rst' ? 'reset' : 'graceful');
        return false;
      case 'startTls':
        await sent();
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
