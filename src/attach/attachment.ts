/** What the attach service keeps of every attached WebSocket, TCP or UDP. */
export interface Attachment {
  /** The kind of socket it is attached to. */
  readonly kind: 'tcp-connection' | 'udp-socket';
  readonly resourceId: string;
  /** It may send to the peer (and so counts for the write lock). */
  readonly writes: boolean;
  /** Closes the WebSocket with `code` and lets go of the socket; idempotent. */
  detach(code: number, reason: string): void;
}

export interface AttachSettings {
  /** Unsent bytes a WebSocket (or a connection's write buffer) may hold before the other side is paused. */
  highWaterBytes: number;
}

/** A close reason fits in 123 bytes of UTF-8 (RFC 6455 §5.5); a longer one is cut. */
export function closeReason(reason: string): string {
  const bytes = Buffer.from(reason);
  if (bytes.length <= 123) return reason;
  return bytes.subarray(0, 120).toString('utf8').replace(/\uFFFD$/, '') + '…';
}
