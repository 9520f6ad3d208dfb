import { ApiProblem } from '../common/api-problem';
import { ResourceIds } from '../sockets/ids';
import { encodeCursor } from '../sockets/pagination';

/** An item of a list page: what the merge reads of it. */
export interface ListItem {
  id: string;
  createdAt?: string;
}

/** One node's page of a list, as it answered. */
export interface NodePage {
  node: string;
  items: ListItem[];
  nextCursor: string | null;
}

/**
 * Where a paged list through the cluster stands: per node, the id of the last item a page
 * gave from it (none yet: from the start), and the nodes it has given everything of.
 */
export interface ClusterCursor {
  after: Record<string, string>;
  done: string[];
}

export const FIRST_PAGE: ClusterCursor = { after: {}, done: [] };

export interface MergedPage {
  items: ListItem[];
  nextCursor: string | null;
}

const CURSOR_PREFIX = 'c1.';

export function encodeClusterCursor(cursor: ClusterCursor): string {
  return CURSOR_PREFIX + Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

/** A cursor a clustered list gave out; anything else is a 400 INVALID_CURSOR. */
export function decodeClusterCursor(text: string): ClusterCursor {
  const invalid = new ApiProblem('INVALID_CURSOR', 'cursor is not one this service returned', { field: 'cursor' });
  if (!text.startsWith(CURSOR_PREFIX)) throw invalid;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text.slice(CURSOR_PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  const { after, done } = (value ?? {}) as Partial<ClusterCursor>;
  const validAfter = typeof after === 'object' && after !== null && Object.values(after).every((id) => typeof id === 'string' && ResourceIds.ownerOf(id) !== null);
  const validDone = Array.isArray(done) && done.every((node) => typeof node === 'string');
  if (!validAfter || !validDone) throw invalid;
  return { after, done };
}

/** The `cursor` to send a node so its page starts after what the cluster cursor already gave of it. */
export function nodeCursor(cursor: ClusterCursor, node: string): string | undefined {
  const last = cursor.after[node];
  if (last === undefined) return undefined;
  const owner = ResourceIds.ownerOf(last);
  return owner === null ? undefined : encodeCursor(owner.seq);
}

/** What creation order sorts an item by, read off it once (not in every comparison). */
interface SortKey {
  item: ListItem;
  createdAt: string;
  node: string;
  seq: number;
}

function sortKey(item: ListItem): SortKey {
  const owner = ResourceIds.ownerOf(item.id);
  return { item, createdAt: item.createdAt ?? '', node: owner?.node ?? item.id, seq: owner?.seq ?? 0 };
}

/** Creation order across nodes: by creation time, then node, then the node's own sequence. */
function compareKeys(a: SortKey, b: SortKey): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  if (a.node !== b.node) return a.node < b.node ? -1 : 1;
  return a.seq - b.seq;
}

/**
 * Merges the nodes' pages into one page of `limit` items in creation order, and the cursor to
 * the next page: each node's next page starts after the last of its items this page took, so
 * items not taken now come again. `missing` nodes did not answer; the cursor keeps their place.
 * Without a `limit` in the request, the nodes' own page size is the one that filled a page.
 */
export function mergePages(pages: NodePage[], cursor: ClusterCursor, missing: readonly string[], limit: number | undefined): MergedPage {
  const pageSize = limit ?? Math.max(0, ...pages.filter((page) => page.nextCursor !== null).map((page) => page.items.length));
  const all = pages
    .flatMap((page) => page.items.map(sortKey))
    .sort(compareKeys)
    .map((key) => key.item);
  const items = pageSize > 0 ? all.slice(0, pageSize) : all;
  const taken = new Set(items.map((item) => item.id));
  const next: ClusterCursor = { after: { ...cursor.after }, done: [...cursor.done] };
  let more = missing.some((node) => !cursor.done.includes(node));
  for (const page of pages) {
    const takenHere = page.items.filter((item) => taken.has(item.id));
    if (takenHere.length > 0) next.after[page.node] = takenHere[takenHere.length - 1].id;
    if (takenHere.length === page.items.length && page.nextCursor === null) {
      if (!next.done.includes(page.node)) next.done.push(page.node);
    } else {
      more = true;
    }
  }
  return { items, nextCursor: more ? encodeClusterCursor(next) : null };
}
