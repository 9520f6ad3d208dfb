/**
 * The wire protocol of an attached WebSocket: its two subprotocols, the channels of
 * `sockplane.channel.v1` and the close codes either side uses. One place, so the gateway, the
 * console and the OpenAPI text say the same.
 */

/** Binary messages are the bytes, both ways (text messages from the client are sent as their UTF-8 bytes). */
export const RAW_PROTOCOL = 'sockplane.raw.v1';
/** Each message starts with a channel byte (`CHANNEL`), as Kubernetes' `v5.channel.k8s.io` does. */
export const CHANNEL_PROTOCOL = 'sockplane.channel.v1';
export const ATTACH_PROTOCOLS = [RAW_PROTOCOL, CHANNEL_PROTOCOL] as const;
export type AttachProtocol = (typeof ATTACH_PROTOCOLS)[number];

export const CHANNEL = {
  /** Client → service: bytes for the peer (a datagram, on a UDP socket). */
  TO_PEER: 0,
  /** Service → client: bytes the peer sent. */
  FROM_PEER: 1,
  /** Service → client: one JSON object (`AttachNotice`): attached, live, peer-ended, TLS, closed. */
  CONTROL: 2,
  /** Client → service: half-close, send FIN once everything before it was sent (Kubernetes v5's close signal). */
  HALF_CLOSE: 255,
} as const;

/** Close codes: 4000–4999 are the application's own (RFC 6455 §7.4.2). */
export const CLOSE_CODE = {
  /** Either side: detach; the socket stays as it is. */
  NORMAL: 1000,
  /** Service: it is shutting down. */
  GOING_AWAY: 1001,
  /** Service: a message this attachment may not send (a write on a read-only attachment, a text message on a channel attachment, an unknown channel). */
  UNSUPPORTED: 1003,
  /** Service: the bytes could not be sent to the peer (its write buffer refused them, or it closed). */
  SEND_FAILED: 1011,
  /** Client: detach and close the TCP connection gracefully (FIN). */
  CLOSE_SOCKET: 4000,
  /** Client: detach and reset the TCP connection (RST). */
  RESET_SOCKET: 4001,
  /** Service: the socket closed; the reason says why (`peer-end`, `peer-reset`, `local`, …). */
  SOCKET_CLOSED: 4100,
  /** Service: the peer ended (FIN) and every byte was delivered (raw subprotocol, read-only attachments). */
  PEER_ENDED: 4101,
} as const;

/** What channel 2 carries, one JSON object a message. */
export type AttachNotice =
  | { type: 'attached'; resourceId: string; protocol: AttachProtocol; from: number; endOffset: number; read: boolean; write: boolean }
  | { type: 'live'; offset: number }
  | { type: 'peer-ended'; endOffset: number }
  | { type: 'tls-established'; protocol: string; cipher: string; alpnProtocol: string | null }
  | { type: 'closed'; reason: string; errno: string | null; bytesIn: number; bytesOut: number }
  | { type: 'datagram'; seq: number; remoteAddress: string; remotePort: number; size: number }
  | { type: 'dropped'; datagrams: number };

/** The subprotocol to answer with: the first one offered that the service speaks; raw when none is offered. */
export function chooseProtocol(offered: ReadonlySet<string>): AttachProtocol | null {
  if (offered.size === 0) return RAW_PROTOCOL;
  for (const protocol of offered) {
    if ((ATTACH_PROTOCOLS as readonly string[]).includes(protocol)) return protocol as AttachProtocol;
  }
  return null;
}

/** Parses the `Sec-WebSocket-Protocol` header as `ws` does: comma-separated tokens. */
export function offeredProtocols(header: string | undefined): Set<string> {
  const offered = new Set<string>();
  for (const token of (header ?? '').split(',')) {
    const trimmed = token.trim();
    if (trimmed !== '') offered.add(trimmed);
  }
  return offered;
}

/** A channel message: the channel byte, then `body`. */
export function channelMessage(channel: number, body: Buffer): Buffer {
  const message = Buffer.allocUnsafe(body.length + 1);
  message[0] = channel;
  body.copy(message, 1);
  return message;
}

export function noticeMessage(notice: AttachNotice): Buffer {
  return channelMessage(CHANNEL.CONTROL, Buffer.from(JSON.stringify(notice)));
}
