import { DelayLine } from './delay-line';

describe('DelayLine', () => {
  it('hands chunks on in the order they came, a short delay never overtaking a long one', async () => {
    const line = new DelayLine();
    const out: string[] = [];
    const next = (chunk: Buffer) => out.push(chunk.toString());
    const now = performance.now();
    line.push(now + 40, Buffer.from('slow'), next);
    line.push(now + 1, Buffer.from('fast'), next);
    expect(line.held).toBe(2);
    await new Promise<void>((resolve) => line.whenDrained(resolve));
    expect(out).toEqual(['slow', 'fast']);
    expect(performance.now() - now).toBeGreaterThanOrEqual(39);
  });

  it('passes a chunk that is due at once straight through when nothing is held', () => {
    const line = new DelayLine();
    const out: string[] = [];
    line.push(performance.now() - 1, Buffer.from('now'), (chunk) => out.push(chunk.toString()));
    expect(out).toEqual(['now']);
    expect(line.held).toBe(0);
  });

  it('flush hands on what it holds at once; dispose drops it', () => {
    const flushed = new DelayLine();
    const dropped = new DelayLine();
    const out: string[] = [];
    const later = performance.now() + 60_000;
    flushed.push(later, Buffer.from('kept'), (chunk) => out.push(chunk.toString()));
    dropped.push(later, Buffer.from('lost'), (chunk) => out.push(chunk.toString()));
    flushed.flush();
    dropped.dispose();
    expect(out).toEqual(['kept']);
    expect([flushed.held, dropped.held]).toEqual([0, 0]);
  });

  it('counts the bytes it holds and tells its owner each time they change', () => {
    const changes: number[] = [];
    const line: DelayLine = new DelayLine(() => changes.push(line.heldBytes));
    const later = performance.now() + 60_000;
    const next = (): void => undefined;
    line.push(later, Buffer.alloc(100), next);
    line.push(later, Buffer.alloc(28), next);
    expect(line.heldBytes).toBe(128);
    line.flush();
    expect(changes).toEqual([100, 128, 0]);
    line.push(later, Buffer.alloc(5), next);
    line.dispose();
    expect(line.heldBytes).toBe(0);
  });
});
