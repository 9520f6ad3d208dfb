import { Waiters } from './waiters';

describe('Waiters', () => {
  it('answers at once when the condition already holds, and false at once without time to wait', async () => {
    const waiters = new Waiters();
    expect(await waiters.waitFor(() => true, 0)).toBe(true);
    expect(await waiters.waitFor(() => false, 0)).toBe(false);
    expect(waiters.size).toBe(0);
  });

  it('settles a wait when a notify finds its condition true, and only then', async () => {
    const waiters = new Waiters();
    let value = 0;
    const wait = waiters.waitFor(() => value >= 2, 10_000);
    value = 1;
    waiters.notify();
    expect(waiters.size).toBe(1);
    value = 2;
    waiters.notify();
    expect(await wait).toBe(true);
    expect(waiters.size).toBe(0);
  });

  it('answers false when the time runs out or the signal aborts, and forgets the wait', async () => {
    const waiters = new Waiters();
    expect(await waiters.waitFor(() => false, 20)).toBe(false);
    const abort = new AbortController();
    const aborted = waiters.waitFor(() => false, 10_000, abort.signal);
    abort.abort();
    expect(await aborted).toBe(false);
    expect(waiters.size).toBe(0);
    expect(await waiters.waitFor(() => false, 10_000, abort.signal)).toBe(false);
  });

  it('releases every wait on close, each with its condition as it stands', async () => {
    const waiters = new Waiters();
    let ready = false;
    const a = waiters.waitFor(() => ready, 10_000);
    const b = waiters.waitFor(() => false, 10_000);
    ready = true;
    waiters.releaseAll();
    expect(await Promise.all([a, b])).toEqual([true, false]);
    expect(waiters.size).toBe(0);
  });
});
