/** What the service itself does with bytes or datagrams it receives. */
export const RECEIVE_MODES = ['buffer', 'echo', 'discard'] as const;
export type ReceiveMode = (typeof RECEIVE_MODES)[number];

/**
 * Why a socket closed. `linger-expired`: a graceful close sent FIN, the peer's FIN did not come
 * within the linger time (`SOCKPLANE_CLOSE_LINGER_MS`), and the connection was reset.
 * `framing-error`: the received bytes could not be framed and the framing said to close.
 */
export const CLOSE_REASONS = ['local', 'peer-end', 'peer-reset', 'timeout', 'error', 'linger-expired', 'framing-error', 'owner-lost'] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];

export interface Endpoint {
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
}

/** Why and when a socket closed; `errno` is set for `peer-reset` and `error`. */
export interface CloseInfo {
  reason: CloseReason;
  errno: string | null;
  message: string | null;
  at: Date;
}

export type Labels = Readonly<Record<string, string>>;

/** Fields every resource the registry holds shares. */
export interface SocketResource {
  readonly id: string;
  /** Creation order; cursors point into it. */
  readonly seq: number;
  readonly kind: string;
  readonly labels: Labels;
  /** The API key that created it (null when authentication is off). */
  readonly owner: string | null;
  readonly state: string;
}

export function toEndpoint(address: string | undefined, port: number | undefined, family: string | undefined): Endpoint | null {
  if (!address || port === undefined) return null;
  return { address, port, family: family === 'IPv6' ? 'IPv6' : 'IPv4' };
}
