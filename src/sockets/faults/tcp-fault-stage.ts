import { MatchInput } from '../rules/match';
import { Next, Stage } from '../stage-chain';
import { DelayLine } from './delay-line';
import { Fault } from './fault';
import { ThenAction } from './fault-types';

/** What a fault stage may do to the connection it sits on. */
export interface FaultedConnection {
  readonly id: string;
  readonly options: { readonly maxPendingWriteBytes: number };
  readonly framingActive: boolean;
  close(mode: 'graceful' | 'reset'): Promise<void>;
  /** Stops reading from the peer (TCP pushes back on it) until `unhold`. */
  hold(holder: object): void;
  unhold(holder: object): void;
  /** Makes whoever feeds the connection wait, as for a full write buffer, until `unholdSends`. */
  holdSends(holder: object): void;
  unholdSends(holder: object): void;
  watchFrames(listener: (data: Buffer) => void): () => void;
}

type Side = 'received' | 'sent';

/** One direction's handling of chunks; `line` holds what it delays. */
interface Flow {
  readonly line: DelayLine;
  pass(chunk: Buffer, next: Next): void;
}

/** A bandwidth's next free moment: the connection's own, or the target's shared one. */
interface Bucket {
  nextFreeAt: number;
}

/** Bandwidth is handed out in pieces of this share of a second, so a big chunk does not leave in one late lump. */
const BANDWIDTH_PIECES_PER_SECOND = 20;

/**
 * A fault on one connection's byte path, spliced in right after the chain's head (nearest the
 * transport). It passes everything through untouched until its trigger fires (at once when it
 * has none), then acts on the directions it was given; timed effects (close, limitTime) start
 * then too.
 */
export class TcpFaultStage implements Stage {
  readonly name: string;
  readonly received?: (chunk: Buffer, next: Next) => void;
  readonly sent?: (chunk: Buffer, next: Next) => void;
  private readonly flows = new Map<Side, Flow>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private armed = false;
  /** Bytes seen before an `afterBytes` trigger fired. */
  private seenBytes = 0;
  /** Set by `then: blackhole`: nothing passes from then on. */
  private swallowing = false;
  /** Sides whose held bytes went over the bound, and push back on their sender now. */
  private readonly pushingBack = new Set<Side>();
  private stopWatchingFrames: (() => void) | null = null;

  constructor(
    private readonly fault: Fault,
    private readonly connection: FaultedConnection,
    private readonly onTriggered: () => void,
  ) {
    this.name = `fault:${fault.id}`;
    const { direction, trigger } = fault.spec;
    if (direction !== 'toPeer') {
      const flow = this.flowFor('received');
      if (flow) this.flows.set('received', flow);
      this.received = (chunk, next) => {
        const trips = this.tripsOn(chunk);
        this.handle('received', chunk, next);
        if (trips) this.arm(true);
      };
    } else if (trigger.onFrame !== null) {
      // Only watching: a toPeer fault triggered by what the peer sends.
      this.received = (chunk, next) => {
        next(chunk);
        if (this.tripsOn(chunk)) this.arm(true);
      };
    }
    if (direction !== 'fromPeer') {
      const flow = this.flowFor('sent');
      if (flow) this.flows.set('sent', flow);
      this.sent = (chunk, next) => this.handle('sent', chunk, next);
    }
  }

  /** Bytes its delay lines hold now, both directions. */
  get heldBytes(): number {
    let bytes = 0;
    for (const flow of this.flows.values()) bytes += flow.line.heldBytes;
    return bytes;
  }

  /** Starts its trigger (or acts at once without one): whichever of them comes first arms it. */
  start(): void {
    const { afterMs, afterBytes, onFrame } = this.fault.spec.trigger;
    if (afterMs !== null) this.after(afterMs, () => this.arm(true));
    // With framing the frames are cut past this stage: the connection says when one is indexed.
    if (onFrame !== null) this.stopWatchingFrames = this.connection.watchFrames((data) => this.onFrame(data));
    if (afterMs === null && afterBytes === null && onFrame === null) this.arm(false);
  }

  /** Calls `done` once nothing it holds on the way to the peer is left. */
  whenSentDrained(done: () => void): void {
    const flow = this.flows.get('sent');
    if (flow) flow.line.whenDrained(done);
    else done();
  }

  /** The fault is taken off: timers stop, and what it held goes on its way. */
  remove(): void {
    this.stopTimers();
    for (const flow of this.flows.values()) flow.line.flush();
    this.stopPushingBack();
  }

  /** The connection is gone: timers stop and what it held is dropped. */
  dispose(): void {
    this.stopTimers();
    for (const flow of this.flows.values()) flow.line.dispose();
    this.stopPushingBack();
  }

  /** Without framing the rules see received chunks, and so does the trigger: the chunk that matches passes untouched. */
  private tripsOn(chunk: Buffer): boolean {
    const onFrame = this.fault.spec.trigger.onFrame;
    if (this.armed || onFrame === null || this.connection.framingActive) return false;
    return onFrame.matcher(new MatchInput(chunk, null)) !== null;
  }

  private onFrame(data: Buffer): void {
    const onFrame = this.fault.spec.trigger.onFrame;
    if (!this.armed && onFrame !== null && onFrame.matcher(new MatchInput(data, null)) !== null) this.arm(true);
  }

  /**
   * Keeps what a side holds within the connection's pending-write cap: over it, the sender is
   * pushed back (reading from the peer stops, or the proxy's other half stops feeding this
   * one); at half of it, it may go on. A fast sender through a slow fault then waits in TCP.
   */
  private pushBack(side: Side, line: DelayLine): void {
    const bound = this.connection.options.maxPendingWriteBytes;
    if (!this.pushingBack.has(side) && line.heldBytes > bound) {
      this.pushingBack.add(side);
      if (side === 'received') this.connection.hold(this);
      else this.connection.holdSends(this);
    } else if (this.pushingBack.has(side) && line.heldBytes <= bound / 2) {
      this.letGo(side);
    }
  }

  private letGo(side: Side): void {
    this.pushingBack.delete(side);
    if (side === 'received') this.connection.unhold(this);
    else this.connection.unholdSends(this);
  }

  private stopPushingBack(): void {
    for (const side of [...this.pushingBack]) this.letGo(side);
    this.stopWatchingFrames?.();
    this.stopWatchingFrames = null;
  }

  private handle(side: Side, chunk: Buffer, next: Next): void {
    if (this.swallowing) return;
    if (!this.armed) {
      const { afterBytes } = this.fault.spec.trigger;
      if (afterBytes === null || this.seenBytes + chunk.length <= afterBytes) {
        this.seenBytes += chunk.length;
        next(chunk);
        if (afterBytes !== null && this.seenBytes === afterBytes) this.arm(true);
        return;
      }
      const untouched = afterBytes - this.seenBytes;
      this.seenBytes = afterBytes;
      if (untouched > 0) next(chunk.subarray(0, untouched));
      chunk = chunk.subarray(untouched);
      this.arm(true);
      if (this.swallowing) return;
    }
    const flow = this.flows.get(side);
    if (flow) flow.pass(chunk, next);
    else next(chunk);
  }

  private arm(byTrigger: boolean): void {
    if (this.armed) return;
    this.armed = true;
    this.stopWatchingFrames?.();
    this.stopWatchingFrames = null;
    if (byTrigger) this.onTriggered();
    const { type, attributes } = this.fault.spec;
    switch (type) {
      case 'close':
        this.after(Number(attributes.afterMs), () => this.closeConnection(attributes.how === 'rst' ? 'rst' : 'fin'));
        break;
      case 'limitTime':
        this.after(Number(attributes.ms), () => this.closeConnection(attributes.then as ThenAction));
        break;
      case 'blackhole':
        if (Number(attributes.closeAfterMs) > 0) this.after(Number(attributes.closeAfterMs), () => this.closeConnection('fin'));
        break;
      case 'refuse':
        this.closeConnection('rst');
        break;
      default:
        break;
    }
  }

  private closeConnection(how: ThenAction): void {
    if (how === 'blackhole') {
      this.swallowing = true;
      return;
    }
    void this.connection.close(how === 'rst' ? 'reset' : 'graceful');
  }

  private after(ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      action();
    }, ms);
    this.timers.add(timer);
  }

  private stopTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  /** The chunk handling of its type for one direction; null for types that act on the whole connection. */
  private flowFor(side: Side): Flow | null {
    const { type, attributes } = this.fault.spec;
    const random = this.fault.random;
    const line: DelayLine = new DelayLine(() => this.pushBack(side, line));
    switch (type) {
      case 'latency': {
        const ms = Number(attributes.ms);
        const jitter = Number(attributes.jitterMs);
        return { line, pass: (chunk, next) => line.push(performance.now() + ms + (jitter > 0 ? (random.next() * 2 - 1) * jitter : 0), chunk, next) };
      }
      case 'bandwidth': {
        const rate = Number(attributes.bytesPerSecond);
        const bucket: Bucket = attributes.shared === 'target' ? this.fault.sharedBandwidth : { nextFreeAt: 0 };
        const piece = Math.max(1, Math.floor(rate / BANDWIDTH_PIECES_PER_SECOND));
        return {
          line,
          pass: (chunk, next) => {
            for (let at = 0; at < chunk.length; at += piece) {
              const part = chunk.subarray(at, at + piece);
              bucket.nextFreeAt = Math.max(performance.now(), bucket.nextFreeAt) + (part.length * 1000) / rate;
              line.push(bucket.nextFreeAt, part, next);
            }
          },
        };
      }
      case 'slice': {
        const average = Number(attributes.averageBytes);
        const variation = Math.min(Number(attributes.variationBytes), average - 1);
        const delayMs = Number(attributes.delayMs);
        return {
          line,
          pass: (chunk, next) => {
            let at = line.lastAt;
            for (let from = 0; from < chunk.length; ) {
              const size = variation > 0 ? random.between(average - variation, average + variation) : average;
              line.push(at, chunk.subarray(from, from + size), next);
              from += size;
              at += delayMs;
            }
          },
        };
      }
      case 'limitBytes': {
        let left = Number(attributes.bytes);
        const then = attributes.then as ThenAction;
        return {
          line,
          pass: (chunk, next) => {
            if (left > 0) next(left >= chunk.length ? chunk : chunk.subarray(0, left));
            left = Math.max(0, left - chunk.length);
            if (left === 0) this.closeConnection(then);
          },
        };
      }
      case 'blackhole':
        return { line, pass: () => undefined };
      case 'firstByteDelay': {
        const ms = Number(attributes.ms);
        let releaseAt: number | null = null;
        return {
          line,
          pass: (chunk, next) => {
            releaseAt ??= performance.now() + ms;
            line.push(releaseAt, chunk, next);
          },
        };
      }
      case 'corrupt': {
        const probability = Number(attributes.probability);
        return {
          line,
          pass: (chunk, next) => {
            const copy = Buffer.from(chunk);
            for (let i = 0; i < copy.length; i++) if (random.chance(probability)) copy[i] ^= 1 << Math.floor(random.next() * 8);
            next(copy);
          },
        };
      }
      default:
        return null;
    }
  }
}
