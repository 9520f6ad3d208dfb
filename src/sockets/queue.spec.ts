import { Queue } from './queue';
import { collectedAfterGc } from '../../test/support/garbage';

describe('Queue', () => {
  it('takes items in the order they came, addressed from the oldest', () => {
    const queue = new Queue<string>('');
    ['a', 'b', 'c'].forEach((item) => queue.push(item));
    expect([queue.length, queue.at(0), queue.at(2)]).toEqual([3, 'a', 'c']);
    expect(queue.shift()).toBe('a');
    expect([queue.length, queue.at(0), queue.at(1)]).toEqual([2, 'b', 'c']);
    queue.set(0, 'B');
    expect([queue.shift(), queue.shift(), queue.length]).toEqual(['B', 'c', 0]);
    queue.push('d');
    expect([queue.length, queue.at(0)]).toEqual([1, 'd']);
    queue.clear();
    expect(queue.length).toBe(0);
    ['e', 'f'].forEach((item) => queue.push(item));
    queue.shift();
    expect([queue.pop(), queue.length]).toEqual(['f', 0]);
  });

  it('keeps its order across the compaction of a long taken prefix', () => {
    const queue = new Queue<number>(-1);
    for (let i = 0; i < 5000; i++) queue.push(i);
    for (let i = 0; i < 3000; i++) expect(queue.shift()).toBe(i);
    for (let i = 5000; i < 6000; i++) queue.push(i);
    expect(queue.length).toBe(3000);
    expect([queue.at(0), queue.at(1999), queue.at(2999)]).toEqual([3000, 4999, 5999]);
    for (let i = 3000; i < 6000; i++) expect(queue.shift()).toBe(i);
  });

  it('a keyed queue keeps each item’s number beside it, through growth, compaction and replacement', () => {
    const queue = new Queue<string>('', true);
    for (let i = 0; i < 5000; i++) queue.push(`item${i}`, 2 ** 40 + i);
    for (let i = 0; i < 3000; i++) queue.shift();
    expect([queue.at(0), queue.keyAt(0), queue.keyAt(1999)]).toEqual(['item3000', 2 ** 40 + 3000, 2 ** 40 + 4999]);
    queue.set(0, 'replaced', 7);
    expect([queue.at(0), queue.keyAt(0)]).toEqual(['replaced', 7]);
    while (queue.length > 0) queue.shift();
    queue.push('again', 1.5);
    expect([queue.length, queue.at(0), queue.keyAt(0)]).toEqual([1, 'again', 1.5]);
  });

  it('lets go of a taken item at once, long before the compaction', async () => {
    const queue = new Queue<object>({});
    for (let i = 0; i < 10; i++) queue.push({ filler: i });
    const ref = ((): WeakRef<object> => {
      const taken = { big: Buffer.alloc(1024) };
      queue.push(taken);
      return new WeakRef(taken);
    })();
    queue.push({ keeps: 'the array from being dropped whole' });
    for (let i = 0; i < 11; i++) queue.shift();
    expect(queue.length).toBe(1);
    expect(await collectedAfterGc([ref])).toEqual([true]);
  });
});
