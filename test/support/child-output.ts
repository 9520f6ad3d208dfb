import { ChildProcessWithoutNullStreams } from 'node:child_process';
import { firstEvent } from './first-event';

/** Resolves at the child's next output (stdout or stderr) or at its exit. */
export async function nextOutputOrExit(child: ChildProcessWithoutNullStreams): Promise<void> {
  await firstEvent([child.stdout, 'data'], [child.stderr, 'data'], [child, 'exit']).catch(() => undefined);
}
