import { ApiProblem } from '../common/api-problem';
import { InlineFaultDto } from '../faults/dto/create-fault.dto';
import { MatchLimits, toFaultSpec } from '../faults/faults.service';
import { FaultEngine } from '../sockets/faults/fault-engine';

/**
 * Creates a proxy and the faults given inline with it, all or nothing: the faults are checked
 * before the proxy is made (with a stand-in target), and if one still fails against the real
 * proxy, the proxy is taken down again.
 */
export async function withInlineFaults<P extends { id: string }>(
  faults: readonly InlineFaultDto[],
  engine: FaultEngine,
  owner: string | null,
  matchLimits: MatchLimits,
  create: () => Promise<P>,
  remove: (proxy: P) => Promise<unknown> | unknown,
): Promise<P> {
  faults.forEach((fault, index) => toFaultSpec(fault, '', `faults[${index}].`, matchLimits));
  const names = faults.map((fault) => fault.name).filter((name) => name !== undefined);
  if (new Set(names).size !== names.length) {
    throw new ApiProblem('VALIDATION_FAILED', 'faults: two faults have the same name', {}, [{ field: 'faults', message: 'fault names must be unique' }]);
  }
  const proxy = await create();
  try {
    for (const fault of faults) engine.create(toFaultSpec(fault, proxy.id, '', matchLimits), owner);
  } catch (err) {
    await remove(proxy);
    throw err;
  }
  return proxy;
}
