import { SocketError } from './socket-error';

export interface AdmissionLimits {
  /** Sockets (listeners, connections, UDP sockets) held at once. */
  maxSockets: number;
  /** Sockets one owner holds at once, accepted connections included; 0 = no limit of its own. */
  maxSocketsPerKey: number;
}

/** Why a socket was turned away. */
export type Refusal = 'shutting-down' | 'quota';

/**
 * Decides whether one more socket may be held: the service's socket quota, each owner's, and
 * nothing new once shutdown began. The registry tells it what it holds (`admit` / `release`).
 */
export class Admission {
  private held = 0;
  private readonly byOwner = new Map<string | null, number>();
  private shuttingDown = false;

  constructor(private readonly limits: AdmissionLimits) {}

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Sockets held, the registry's and those held outside it (a UDP proxy's). */
  get heldTotal(): number {
    return this.held;
  }

  /** Sockets `owner` holds. */
  heldBy(owner: string | null): number {
    return this.byOwner.get(owner) ?? 0;
  }

  /** From now on everything new is refused. */
  beginShutdown(): void {
    this.shuttingDown = true;
  }

  /** Throws SHUTTING_DOWN or QUOTA_EXCEEDED unless `owner` may hold one more socket. */
  assertRoom(owner: string | null): void {
    this.assertNotShuttingDown();
    if (this.held >= this.limits.maxSockets) {
      throw new SocketError('QUOTA_EXCEEDED', `the service holds ${this.held} sockets, its limit`, { limit: 'maxSockets', max: this.limits.maxSockets });
    }
    if (this.ownerAtQuota(owner)) {
      throw new SocketError('QUOTA_EXCEEDED', `this API key holds ${this.limits.maxSocketsPerKey} sockets, its limit`, {
        limit: 'maxSocketsPerKey',
        max: this.limits.maxSocketsPerKey,
      });
    }
  }

  assertNotShuttingDown(): void {
    if (this.shuttingDown) throw new SocketError('SHUTTING_DOWN', 'the service is shutting down');
  }

  /** Why a socket that arrives on its own (an accepted connection) must be turned away, or null. */
  refusal(owner: string | null): Refusal | null {
    if (this.shuttingDown) return 'shutting-down';
    return this.held >= this.limits.maxSockets || this.ownerAtQuota(owner) ? 'quota' : null;
  }

  admit(owner: string | null): void {
    this.held++;
    this.byOwner.set(owner, this.heldBy(owner) + 1);
  }

  release(owner: string | null): void {
    this.held--;
    const left = this.heldBy(owner) - 1;
    if (left > 0) this.byOwner.set(owner, left);
    else this.byOwner.delete(owner);
  }

  private ownerAtQuota(owner: string | null): boolean {
    return this.limits.maxSocketsPerKey > 0 && this.heldBy(owner) >= this.limits.maxSocketsPerKey;
  }
}
