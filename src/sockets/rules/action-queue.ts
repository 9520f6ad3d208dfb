/**
 * Runs rule answers one after another, so replies leave in the order their frames arrived,
 * and owns every timer they wait on: `dispose` clears them all and drops what is queued, so a
 * closed connection or socket keeps nothing alive.
 */
export class ActionQueue {
  private tail: Promise<void> = Promise.resolve();
  /** Answers queued or running; while none is, an answer that waits for nothing runs at once. */
  private pending = 0;
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  private disposed = false;

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Nothing is queued or running: work run now keeps the order. */
  get isIdle(): boolean {
    return this.pending === 0;
  }

  /** Runs `work` after everything queued before it; what it throws ends only its own answer. */
  enqueue(work: () => Promise<void>): void {
    if (this.disposed) return;
    this.pending++;
    this.tail = this.tail
      .then(() => (this.disposed ? undefined : work()))
      .catch(() => undefined)
      .finally(() => this.pending--);
  }

  /** Resolves after `ms`, or at once (false) if the queue is disposed meanwhile. */
  sleep(ms: number): Promise<boolean> {
    if (this.disposed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve(!this.disposed);
      }, ms);
      this.timers.set(timer, () => resolve(false));
    });
  }

  dispose(): void {
    this.disposed = true;
    for (const [timer, cancel] of this.timers) {
      clearTimeout(timer);
      cancel();
    }
    this.timers.clear();
  }
}
