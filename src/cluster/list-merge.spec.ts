import { ApiProblem } from '../common/api-problem';
import {
  FIRST_PAGE,
  ListPage,
  NodePage,
  PageEntry,
  decodeClusterCursor,
  encodeClusterCursor,
  mergePages,
  nodeCursor,
  parseKeyedPage,
  renderMergedPage,
  serializeKeyedPage,
  toEntries,
} from './list-merge';
import { encodeCursor } from '../sockets/pagination';

const item = (node: string, seq: number, second: number): PageEntry => {
  const id = `tl_${node}_${seq.toString(36).padStart(6, '0')}0123456789`;
  const createdAt = `2026-12-07T10:00:${String(second).padStart(2, '0')}.000Z`;
  return { id, createdAt, json: JSON.stringify({ id, kind: 'tcp-listener', createdAt }) };
};
const page = (node: string, entries: PageEntry[], more: boolean): NodePage => ({ node, entries, nextCursor: more ? 'opaque' : null });

describe('mergePages', () => {
  const a1 = item('aaaaaa', 1, 1);
  const b1 = item('bbbbbb', 1, 2);
  const a2 = item('aaaaaa', 2, 3);
  const c1 = item('cccccc', 1, 3);
  const b2 = item('bbbbbb', 2, 5);

  it('merges in creation order, ties by node, and takes `limit` items', () => {
    const merged = mergePages([page('aaaaaa', [a1, a2], false), page('bbbbbb', [b1, b2], false), page('cccccc', [c1], false)], FIRST_PAGE, [], 3);
    expect(merged.entries).toEqual([a1, b1, a2]);
    expect(decodeClusterCursor(merged.nextCursor ?? '')).toEqual({ after: { aaaaaa: a2.id, bbbbbb: b1.id }, done: ['aaaaaa'] });
  });

  it('asks each node to go on after the last of its items a page took', () => {
    const cursor = { after: { bbbbbb: b1.id }, done: ['aaaaaa'] };
    expect(nodeCursor(cursor, 'bbbbbb')).toBe(encodeCursor(1));
    expect(nodeCursor(cursor, 'cccccc')).toBeUndefined();
    const last = mergePages([page('bbbbbb', [b2], false), page('cccccc', [c1], false)], cursor, [], 3);
    expect(last).toEqual({ entries: [c1, b2], nextCursor: null });
  });

  it('without a limit, the nodes’ own page size fills a page', () => {
    const merged = mergePages([page('aaaaaa', [a1, a2], true), page('bbbbbb', [b1], false)], FIRST_PAGE, [], undefined);
    expect(merged.entries).toEqual([a1, b1]);
    expect(merged.nextCursor).not.toBeNull();
  });

  it('keeps a cursor while a node that did not answer may still hold items', () => {
    const merged = mergePages([page('aaaaaa', [a1], false)], FIRST_PAGE, ['cccccc'], 10);
    expect(merged.entries).toEqual([a1]);
    expect(decodeClusterCursor(merged.nextCursor ?? '')).toEqual({ after: { aaaaaa: a1.id }, done: ['aaaaaa'] });
  });
});

describe('renderMergedPage', () => {
  const a1 = item('aaaaaa', 1, 1);
  const b1 = item('bbbbbb', 1, 2);
  const parsed = (entry: PageEntry): unknown => JSON.parse(entry.json);

  it('answers what serializing the merged page whole would, with the items as their nodes wrote them', () => {
    const merged = mergePages([page('aaaaaa', [a1], true), page('bbbbbb', [b1], false)], FIRST_PAGE, [], 2);
    expect(renderMergedPage(merged, [])).toBe(JSON.stringify({ items: [parsed(a1), parsed(b1)], nextCursor: merged.nextCursor }));
  });

  it('names the nodes that did not answer after the cursor', () => {
    const merged = mergePages([page('aaaaaa', [a1], false)], FIRST_PAGE, ['cccccc'], 10);
    expect(renderMergedPage(merged, ['cccccc'])).toBe(JSON.stringify({ items: [parsed(a1)], nextCursor: merged.nextCursor, partial: true, missingNodes: ['cccccc'] }));
  });

  it('answers an empty last page as an empty list', () => {
    expect(renderMergedPage(mergePages([page('aaaaaa', [], false)], FIRST_PAGE, [], 10), [])).toBe('{"items":[],"nextCursor":null}');
  });
});

describe('the keyed page form', () => {
  const labelled = { id: 'tl_aaaaaa_0000010123456789', createdAt: '2026-12-07T10:00:01.000Z', labels: { note: 'two\nlines' } };
  const listPage: ListPage = { items: [labelled, { id: 'tl_aaaaaa_0000020123456789', createdAt: '2026-12-07T10:00:02.000Z' }], nextCursor: encodeCursor(2) };

  it('reads back each item’s keys and the JSON it serializes to, line feeds in its strings included', () => {
    const read = parseKeyedPage('aaaaaa', serializeKeyedPage(listPage));
    expect(read).toEqual({ node: 'aaaaaa', entries: toEntries(listPage.items), nextCursor: encodeCursor(2) });
    expect(read?.entries.map((entry) => JSON.parse(entry.json))).toEqual(listPage.items);
  });

  it('reads back an empty last page', () => {
    expect(parseKeyedPage('aaaaaa', serializeKeyedPage({ items: [], nextCursor: null }))).toEqual({ node: 'aaaaaa', entries: [], nextCursor: null });
  });

  it.each(['', '{"items":[],"nextCursor":null}', '{"nextCursor":null,"keys":[["tl_x","t"]]}', '{"nextCursor":7,"keys":[]}'])('takes %j for no page', (text) => {
    expect(parseKeyedPage('aaaaaa', text)).toBeNull();
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
