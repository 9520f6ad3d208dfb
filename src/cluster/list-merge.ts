import { ApiProblem } from '../common/api-problem';
import { ResourceIds } from '../sockets/ids';
import { encodeCursor } from '../sockets/pagination';

/** An item of a list page: what the merge reads of it. */
export interface ListItem {
  id: string;
  createdAt?: string;
}

/** A list route's answer, `{items, nextCursor}`. */
export interface ListPage {
  items: ListItem[];
  nextCursor: string | null;
}

/** An item of a page with the keys the merge sorts it by, beside its JSON as its node wrote it. */
export interface PageEntry {
  readonly id: string;
  readonly createdAt: string;
  readonly json: string;
}

/** One node's page of a list, as it answered. */
export interface NodePage {
  node: string;
  entries: PageEntry[];
  nextCursor: string | null;
}

/**
 * The media type of a page as one node gives it to another for a merge (`serializeKeyedPage`):
 * the merging node reads the keys and copies the items' JSON without parsing it.
 */
export const KEYED_PAGE_TYPE = 'application/vnd.sockplane.keyed-page';

/** Whether a route's answer is a list page. */
export function isListPage(payload: unknown): payload is ListPage {
  return typeof payload === 'object' && payload !== null && Array.isArray((payload as ListPage).items) && 'nextCursor' in payload;
}

/**
 * The items of a page this node made as entries, each serialized as the whole page would
 * serialize it, when the merge takes it: most of a node's page is not taken.
 */
export function toEntries(items: readonly ListItem[]): PageEntry[] {
  return items.map((item) => ({
    id: item.id,
    createdAt: item.createdAt ?? '',
    get json() {
      return JSON.stringify(item);
    },
  }));
}

/**
 * A page in the keyed form: a first line of JSON with the cursor and each item's id and creation
 * time, then each item's JSON on a line of its own (JSON text never holds a raw line feed).
 */
export function serializeKeyedPage(page: ListPage): string {
  const head = JSON.stringify({ nextCursor: page.nextCursor, keys: page.items.map((item) => [item.id, item.createdAt ?? '']) });
  return page.items.length === 0 ? head : `${head}\n${page.items.map((item) => JSON.stringify(item)).join('\n')}`;
}

/** Reads back what `serializeKeyedPage` wrote; null when the text is not such a page. */
export function parseKeyedPage(node: string, text: string): NodePage | null {
  const lines = text.split('\n');
  let head: unknown;
  try {
    head = JSON.parse(lines[0]);
  } catch {
    return null;
  }
  const { nextCursor, keys } = (head ?? {}) as { nextCursor?: unknown; keys?: unknown };
  const validKeys = Array.isArray(keys) && keys.length === lines.length - 1 && keys.every((key) => Array.isArray(key) && typeof key[0] === 'string' && typeof key[1] === 'string');
  if (!validKeys || (typeof nextCursor !== 'string' && nextCursor !== null)) return null;
  const entries = (keys as [string, string][]).map(([id, createdAt], index) => ({ id, createdAt, json: lines[index + 1] }));
  return { node, entries, nextCursor };
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
  entries: PageEntry[];
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
  entry: PageEntry;
  createdAt: string;
  node: string;
  seq: number;
}

function sortKey(entry: PageEntry): SortKey {
  const owner = ResourceIds.ownerOf(entry.id);
  return { entry, createdAt: entry.createdAt, node: owner?.node ?? entry.id, seq: owner?.seq ?? 0 };
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
  const pageSize = limit ?? Math.max(0, ...pages.filter((page) => page.nextCursor !== null).map((page) => page.entries.length));
  const all = pages
    .flatMap((page) => page.entries.map(sortKey))
    .sort(compareKeys)
    .map((key) => key.entry);
  const entries = pageSize > 0 ? all.slice(0, pageSize) : all;
  const taken = new Set(entries);
  const next: ClusterCursor = { after: { ...cursor.after }, done: [...cursor.done] };
  let more = missing.some((node) => !cursor.done.includes(node));
  for (const page of pages) {
    const takenHere = page.entries.filter((entry) => taken.has(entry));
    if (takenHere.length > 0) next.after[page.node] = takenHere[takenHere.length - 1].id;
    if (takenHere.length === page.entries.length && page.nextCursor === null) {
      if (!next.done.includes(page.node)) next.done.push(page.node);
    } else {
      more = true;
    }
  }
  return { entries, nextCursor: more ? encodeClusterCursor(next) : null };
}

/**
 * The merged page as the list answers it, the JSON of `{items, nextCursor}` (with `partial` and
 * `missingNodes` when nodes did not answer): the items' JSON copied as their nodes wrote it.
 */
export function renderMergedPage(merged: MergedPage, missingNodes: readonly string[]): string {
  const partial = missingNodes.length > 0 ? `,"partial":true,"missingNodes":${JSON.stringify(missingNodes)}` : '';
  return `{"items":[${merged.entries.map((entry) => entry.json).join(',')}],"nextCursor":${JSON.stringify(merged.nextCursor)}${partial}}`;
}
