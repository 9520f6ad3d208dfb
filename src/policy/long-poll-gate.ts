import { SocketError } from '../sockets/socket-error';

/**
 * Bounds the reads waiting at once (`waitMs` > 0). Each holds an HTTP request, a socket and a
 * timer open; past the limit a new one is refused at once rather than queued.
 */
export class LongPollGate {
  private active = 0;

  constructor(readonly max: number) {}

  get inUse(): number {
    return this.active;
  }

  /** Runs `read`, counted as a long-poll while it waits when `waitMs` > 0. */
  async run<T>(waitMs: number, read: () => Promise<T>): Promise<T> {
    if (waitMs <= 0) return read();
    if (this.active >= this.max) {
      throw new SocketError('QUOTA_EXCEEDED', `${this.active} reads are already waiting, the limit; retry, or read without waitMs`, {
        limit: 'maxLongPolls',
        max: this.max,
      });
    }
    this.active++;
    try {
      return await read();
    } finally {
      this.active--;
    }
  }
}
