import { SOCKET_EVENT_TYPES, SocketKind } from '../sockets/socket-events';
import { Labels } from '../sockets/socket-types';
import { EventRecord } from './event-history';

/** What a stream asks for; every given criterion must hold, and any listed value of one matches. */
export interface EventFilter {
  /** Only the resources of this API key; null or absent: every resource. */
  owner?: string | null;
  resourceIds?: readonly string[];
  kinds?: readonly SocketKind[];
  /** Event types, exact (`connection.data`) or a whole family (`connection.*`). */
  types?: readonly string[];
  labels?: Labels;
}

const FAMILIES = new Set(SOCKET_EVENT_TYPES.map((type) => type.slice(0, type.indexOf('.'))));
const KNOWN_TYPES = new Set<string>(SOCKET_EVENT_TYPES);

/** An event type, or a family of them written `family.*`. */
export function isEventTypePattern(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  return KNOWN_TYPES.has(value) || (value.endsWith('.*') && FAMILIES.has(value.slice(0, -2)));
}

export function compileEventFilter(filter: EventFilter): (record: EventRecord) => boolean {
  const resourceIds = filter.resourceIds && new Set(filter.resourceIds);
  const kinds = filter.kinds && new Set(filter.kinds);
  const exactTypes = filter.types && new Set(filter.types.filter((t) => !t.endsWith('.*')));
  const typePrefixes = (filter.types ?? []).filter((t) => t.endsWith('.*')).map((t) => t.slice(0, -1));
  const labels = Object.entries(filter.labels ?? {});
  const owner = filter.owner ?? null;
  return ({ event }) =>
    (owner === null || event.owner === owner) &&
    (!resourceIds || resourceIds.has(event.resourceId)) &&
    (!kinds || kinds.has(event.kind)) &&
    (!exactTypes || exactTypes.has(event.type) || typePrefixes.some((prefix) => event.type.startsWith(prefix))) &&
    labels.every(([key, value]) => event.labels[key] === value);
}
