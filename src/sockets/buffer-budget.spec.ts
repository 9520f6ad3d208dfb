import { BufferBudget } from './buffer-budget';

describe('BufferBudget', () => {
  it('is exhausted at its cap and wakes every waiter, once, when releases make room', () => {
    const budget = new BufferBudget(100);
    const woken: string[] = [];
    budget.add(60);
    expect(budget.exhausted).toBe(false);
    budget.add(50);
    expect({ held: budget.heldBytes, exhausted: budget.exhausted }).toEqual({ held: 110, exhausted: true });
    budget.waitForRoom(() => woken.push('a'));
    budget.waitForRoom(() => woken.push('b'));
    const cancelled = (): number => woken.push('cancelled');
    budget.waitForRoom(cancelled);
    budget.cancelWait(cancelled);
    budget.remove(5);
    expect(woken).toEqual([]);
    budget.remove(10);
    expect(woken).toEqual(['a', 'b']);
    budget.remove(10);
    expect(woken).toEqual(['a', 'b']);
  });
});
