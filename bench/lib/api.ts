import { HttpClient } from './http';
import { LOOPBACK } from './processes';

/** The parts of sockplane's representations the bench reads. */
export interface ListenerView {
  id: string;
  local: { port: number };
}

export interface ConnectionView {
  id: string;
}

export interface UdpSocketView {
  id: string;
  local: { port: number };
}

export function createListener(client: HttpClient, options: Record<string, unknown> = {}): Promise<ListenerView> {
  return client.json<ListenerView>('POST', '/v1/tcp/listeners', { host: LOOPBACK, port: 0, ...options }, 201);
}

export async function deleteListener(client: HttpClient, id: string): Promise<void> {
  await client.json('DELETE', `/v1/tcp/listeners/${id}?closeConnections=true`);
}

/** The connection a listener accepted with index `acceptIndex`, waiting for it. */
export async function acceptedConnection(client: HttpClient, listenerId: string, acceptIndex: number): Promise<ConnectionView> {
  const page = await client.json<{ items: ConnectionView[] }>('GET', `/v1/tcp/listeners/${listenerId}/connections?after=${acceptIndex - 1}&limit=1&waitMs=10000`);
  if (page.items.length === 0) throw new Error(`listener ${listenerId} accepted no connection #${acceptIndex} within 10 s`);
  return page.items[0];
}

export function connectTcp(client: HttpClient, port: number, options: Record<string, unknown> = {}): Promise<ConnectionView> {
  return client.json<ConnectionView>('POST', '/v1/tcp/connections', { host: LOOPBACK, port, ...options }, 201);
}

export async function resetConnection(client: HttpClient, id: string): Promise<void> {
  await client.json('DELETE', `/v1/tcp/connections/${id}?mode=reset`);
}
