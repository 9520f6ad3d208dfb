import { Next } from '../stage-chain';

interface Held {
  at: number;
  chunk: Buffer;
  next: Next;
}

/**
 * Chunks held until their time, handed on in the order they came in (a later chunk never
 * overtakes an earlier one, whatever its own delay), on one timer.
 */
export class DelayLine {
  private queue: Held[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | null = null;
  private last = 0;
  private drainedListeners: (() => void)[] = [];
  private bytes = 0;

  /** `onHeldChange` runs after bytes joined or left the line, so its owner can push back on the sender. */
  constructor(private readonly onHeldChange: () => void = () => undefined) {}

  /** Bytes still held. */
  get heldBytes(): number {
    return this.bytes;
  }

  /** Chunks still held. */
  get held(): number {
    return this.queue.length - this.head;
  }

  /** The time (performance.now) the last chunk in the line leaves, or now. */
  get lastAt(): number {
    return Math.max(this.last, performance.now());
  }

  /** Hands `chunk` to `next` at `at` (performance.now milliseconds), or later if a chunk before it leaves later. */
  push(at: number, chunk: Buffer, next: Next): void {
    const when = Math.max(at, this.last);
    this.last = when;
    if (this.held === 0 && when <= performance.now()) {
      next(chunk);
      return;
    }
    this.queue.push({ at: when, chunk, next });
    this.bytes += chunk.length;
    if (this.timer === null) this.schedule();
    this.onHeldChange();
  }

  /** Calls `listener` once nothing is held (at once if nothing is). */
  whenDrained(listener: () => void): void {
    if (this.held === 0) listener();
    else this.drainedListeners.push(listener);
  }

  /** Hands on everything held now, in order (the fault is being removed: what it held goes on). */
  flush(): void {
    this.cancelTimer();
    this.last = 0;
    this.release(Number.POSITIVE_INFINITY);
  }

  /** Drops everything held (the connection is gone). */
  dispose(): void {
    this.cancelTimer();
    this.queue = [];
    this.head = 0;
    this.bytes = 0;
    this.drainedListeners = [];
  }

  private schedule(): void {
    const wait = Math.max(0, this.queue[this.head].at - performance.now());
    this.timer = setTimeout(this.onTimer, Math.ceil(wait));
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    this.release(performance.now());
    if (this.held > 0) this.schedule();
  };

  private release(until: number): void {
    const before = this.bytes;
    while (this.head < this.queue.length && this.queue[this.head].at <= until) {
      const { chunk, next } = this.queue[this.head++];
      this.bytes -= chunk.length;
      next(chunk);
    }
    if (this.bytes !== before) this.onHeldChange();
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
      const listeners = this.drainedListeners;
      this.drainedListeners = [];
      for (const listener of listeners) listener();
    }
  }

  private cancelTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
