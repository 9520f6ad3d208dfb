import { ApiProblem } from '../common/api-problem';
import { FIRST_PAGE, NodePage, decodeClusterCursor, encodeClusterCursor, mergePages, nodeCursor } from './list-merge';
import { encodeCursor } from '../sockets/pagination';

const item = (node: string, seq: number, second: number) => ({ id: `tl_${node}_${seq.toString(36).padStart(6, '0')}0123456789`, createdAt: `2026-12-07T10:00:${String(second).padStart(2, '0')}.000Z` });
const page = (node: string, items: ReturnType<typeof item>[], more: boolean): NodePage => ({ node, items, nextCursor: more ? 'opaque' : null });

describe('mergePages', () => {
  const a1 = item('aaaaaa', 1, 1);
  const b1 = item('bbbbbb', 1, 2);
  const a2 = item('aaaaaa', 2, 3);
  const c1 = item('cccccc', 1, 3);
  const b2 = item('bbbbbb', 2, 5);

  it('merges in creation order, ties by node, and takes `limit` items', () => {
    const merged = mergePages([page('aaaaaa', [a1, a2], false), page('bbbbbb', [b1, b2], false), page('cccccc', [c1], false)], FIRST_PAGE, [], 3);
    expect(merged.items).toEqual([a1, b1, a2]);
    expect(decodeClusterCursor(merged.nextCursor ?? '')).toEqual({ after: { aaaaaa: a2.id, bbbbbb: b1.id }, done: ['aaaaaa'] });
  });

  it('asks each node to go on after the last of its items a page took', () => {
    const cursor = { after: { bbbbbb: b1.id }, done: ['aaaaaa'] };
    expect(nodeCursor(cursor, 'bbbbbb')).toBe(encodeCursor(1));
    expect(nodeCursor(cursor, 'cccccc')).toBeUndefined();
    const last = mergePages([page('bbbbbb', [b2], false), page('cccccc', [c1], false)], cursor, [], 3);
    expect(last).toEqual({ items: [c1, b2], nextCursor: null });
  });

  it('without a limit, the nodes’ own page size fills a page', () => {
    const merged = mergePages([page('aaaaaa', [a1, a2], true), page('bbbbbb', [b1], false)], FIRST_PAGE, [], undefined);
    expect(merged.items).toEqual([a1, b1]);
    expect(merged.nextCursor).not.toBeNull();
  });

  it('keeps a cursor while a node that did not answer may still hold items', () => {
    const merged = mergePages([page('aaaaaa', [a1], false)], FIRST_PAGE, ['cccccc'], 10);
    expect(merged.items).toEqual([a1]);
    expect(decodeClusterCursor(merged.nextCursor ?? '')).toEqual({ after: { aaaaaa: a1.id }, done: ['aaaaaa'] });
  });
});

describe('decodeClusterCursor', () => {
  it('reads back what encodeClusterCursor wrote', () => {
    const cursor = { after: { aaaaaa: item('aaaaaa', 7, 1).id }, done: ['bbbbbb'] };
    expect(decodeClusterCursor(encodeClusterCursor(cursor))).toEqual(cursor);
  });

  it.each(['', encodeCursor(3), 'c1.!!', `c1.${Buffer.from('{"after":{"x":"tl_1"},"done":[]}').toString('base64url')}`, `c1.${Buffer.from('[]').toString('base64url')}`])(
    'refuses %j as 400 INVALID_CURSOR',
    (text) => {
      expect(() => decodeClusterCursor(text)).toThrow(ApiProblem);
      expect(() => decodeClusterCursor(text)).toThrow(expect.objectContaining({ code: 'INVALID_CURSOR' }));
    },
  );
});
