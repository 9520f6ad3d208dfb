/**
 * Unreleased received bytes across every TCP connection, against one cap. Each connection
 * still has its own cap; this one bounds the sum, so many connections that each stay under
 * theirs cannot together exhaust memory. A connection that receives while the budget is
 * spent pauses (TCP pushes back on its peer) and is woken once releases make room.
 */
export class BufferBudget {
  private held = 0;
  private readonly waiting = new Set<() => void>();

  constructor(readonly maxBytes: number) {}

  get heldBytes(): number {
    return this.held;
  }

  get exhausted(): boolean {
    return this.held >= this.maxBytes;
  }

  add(byteCount: number): void {
    this.held += byteCount;
  }

  /** Returns bytes to the budget; once below the cap, every waiting connection is woken. */
  remove(byteCount: number): void {
    this.held -= byteCount;
    if (this.exhausted || this.waiting.size === 0) return;
    const wake = [...this.waiting];
    this.waiting.clear();
    for (const resume of wake) resume();
  }

  /** Calls `resume` once there is room again; a connection waits at most once. */
  waitForRoom(resume: () => void): void {
    this.waiting.add(resume);
  }

  cancelWait(resume: () => void): void {
    this.waiting.delete(resume);
  }
}
