import { SeededRandom } from './prng';

describe('SeededRandom', () => {
  it('gives the same sequence for the same seed, another for another seed, always in [0, 1)', () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const c = new SeededRandom(43);
    const first = Array.from({ length: 1000 }, () => a.next());
    expect(Array.from({ length: 1000 }, () => b.next())).toEqual(first);
    expect(Array.from({ length: 1000 }, () => c.next())).not.toEqual(first);
    expect(first.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('hits a probability about as often as it says', () => {
    const random = new SeededRandom(7);
    const hits = Array.from({ length: 10_000 }, () => random.chance(0.3)).filter(Boolean).length;
    expect(hits).toBeGreaterThan(2800);
    expect(hits).toBeLessThan(3200);
  });

  it('draws integers within the bounds, both ends included', () => {
    const random = new SeededRandom(1);
    const values = new Set(Array.from({ length: 1000 }, () => random.between(3, 5)));
    expect([...values].sort()).toEqual([3, 4, 5]);
  });
});
