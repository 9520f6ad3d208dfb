interface Waiter {
  isReady: () => boolean;
  settle: (ready: boolean) => void;
}

/**
 * Long-poll support: callers wait until a condition holds, time runs out, or the wait is
 * cancelled. The owner calls `notify()` whenever the state a condition reads may have changed.
 */
export class Waiters {
  private readonly pending = new Set<Waiter>();

  get size(): number {
    return this.pending.size;
  }

  /** Resolves true as soon as `isReady()` holds, false when `timeoutMs` passes or `signal` aborts. */
  waitFor(isReady: () => boolean, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (isReady()) return Promise.resolve(true);
    if (timeoutMs <= 0 || signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = (): void => waiter.settle(false);
      const timer = setTimeout(() => waiter.settle(false), timeoutMs);
      const waiter: Waiter = {
        isReady,
        settle: (ready) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          this.pending.delete(waiter);
          resolve(ready);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.add(waiter);
    });
  }

  notify(): void {
    for (const waiter of this.pending) {
      if (waiter.isReady()) waiter.settle(true);
    }
  }

  /** Answers every pending wait now (on close and shutdown), each with its condition's value. */
  releaseAll(): void {
    for (const waiter of this.pending) waiter.settle(waiter.isReady());
  }
}
