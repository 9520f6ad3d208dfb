import { ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';

/**
 * Resolves at the child's next output (stdout or stderr) or at its exit. The waits that lose
 * the race are cancelled, so a loop polling with it piles up no listeners on the child.
 */
export async function nextOutputOrExit(child: ChildProcessWithoutNullStreams): Promise<void> {
  const round = new AbortController();
  const { signal } = round;
  await Promise.race([once(child.stdout, 'data', { signal }), once(child.stderr, 'data', { signal }), once(child, 'exit', { signal })]).catch(() => undefined);
  round.abort();
}
