import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/**
 * Which of the objects behind `refs` a full garbage collection could free, i.e. that nothing
 * reachable still holds. Waits a turn first: a WeakRef keeps its target for the rest of the
 * job that made it.
 */
export async function collectedAfterGc(refs: readonly WeakRef<object>[]): Promise<boolean[]> {
  await new Promise((resolve) => setImmediate(resolve));
  collectGarbage();
  return refs.map((ref) => ref.deref() === undefined);
}
