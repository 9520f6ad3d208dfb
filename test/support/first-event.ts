import { EventEmitter, once } from 'node:events';

/**
 * Resolves at the first of these events. The waits that lose the race are cancelled, so a loop
 * that calls it piles up no listeners on the emitters (`MaxListenersExceededWarning`).
 */
export async function firstEvent(...waits: [emitter: EventEmitter, event: string][]): Promise<void> {
  const round = new AbortController();
  const { signal } = round;
  try {
    await Promise.race(waits.map(([emitter, event]) => once(emitter, event, { signal })));
  } finally {
    round.abort();
  }
}
