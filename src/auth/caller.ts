/** Who is calling, as far as sockets are concerned. */
export interface Caller {
  /** The key new sockets belong to; null when authentication is off. */
  readonly owner: string | null;
  /** The owner lookups and lists are limited to; null sees every socket (an admin key, or authentication off). */
  readonly scope: string | null;
}

/** The caller when no API keys are configured: sockets have no owner and everyone sees all of them. */
export const ANONYMOUS: Caller = { owner: null, scope: null };
