import { Labels, SocketResource } from './socket-types';
import { TcpConnection, TcpDirection } from './tcp-connection';

export interface ListFilter {
  /** When set, only resources this key owns are visible. */
  owner?: string | null;
  state?: string;
  labels?: Labels;
}

export interface ConnectionFilter extends ListFilter {
  listenerId?: string;
  direction?: TcpDirection;
}

/** Whether a resource passes a list's filter: every given criterion must hold. */
export function matches(resource: SocketResource, filter: ListFilter): boolean {
  if (filter.owner !== undefined && filter.owner !== null && resource.owner !== filter.owner) return false;
  if (filter.state !== undefined && resource.state !== filter.state) return false;
  for (const [key, value] of Object.entries(filter.labels ?? {})) {
    if (resource.labels[key] !== value) return false;
  }
  return true;
}

export function matchesConnection(connection: TcpConnection, filter: ConnectionFilter): boolean {
  return (
    matches(connection, filter) &&
    (filter.listenerId === undefined || connection.listenerId === filter.listenerId) &&
    (filter.direction === undefined || connection.direction === filter.direction)
  );
}
