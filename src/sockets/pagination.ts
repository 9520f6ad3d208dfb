import { SocketError } from './socket-error';

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  nextCursor: string | null;
}

/** Cursors are opaque to callers: the creation sequence of the last item returned, base64url-encoded. */
export function encodeCursor(seq: number): string {
  return Buffer.from(`s${seq}`).toString('base64url');
}

export function decodeCursor(cursor: string): number {
  const match = /^s(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('latin1'));
  if (!match) throw new SocketError('INVALID_CURSOR', 'cursor is not one this service returned', { field: 'cursor' });
  return Number(match[1]);
}

/** One page of `items` (in creation order) after `cursor`, keeping those that `accept`. */
export function paginate<T extends { seq: number }>(items: Iterable<T>, accept: (item: T) => boolean, limit: number, cursor?: string): Page<T> {
  const after = cursor === undefined ? -1 : decodeCursor(cursor);
  const page: T[] = [];
  for (const item of items) {
    if (item.seq <= after || !accept(item)) continue;
    if (page.length === limit) return { items: page, nextCursor: encodeCursor(page[page.length - 1].seq) };
    page.push(item);
  }
  return { items: page, nextCursor: null };
}
