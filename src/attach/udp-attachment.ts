import { isIP } from 'node:net';
import { RawData, WebSocket } from 'ws';
import { Datagram } from '../sockets/datagram-log';
import { SocketEventMap } from '../sockets/socket-events';
import { UdpDestination, UdpSocket } from '../sockets/udp-socket';
import { encodeDatagramFrames } from '../udp/datagram-frames';
import { AttachNotice, AttachProtocol, CHANNEL, CLOSE_CODE, RAW_PROTOCOL, channelMessage, noticeMessage } from './attach-protocol';
import { Attachment, AttachSettings, closeReason } from './attachment';

export interface UdpAttachOptions {
  protocol: AttachProtocol;
  /** Replay held datagrams from this sequence number, then go live; null starts live. */
  fromSeq: number | null;
  releaseAuto: boolean;
  read: boolean;
  write: boolean;
}

/** Bytes of a send header before the destination address: port, address length. */
const SEND_HEADER_BYTES = 3;

/** The datagrams a replay sends at most: a socket holds no more than its cap (SOCKPLANE_UDP_MAX_DATAGRAMS). */
const REPLAY_MAX = Number.MAX_SAFE_INTEGER;

/**
 * One WebSocket attached to one UDP socket: a message per datagram each way. Received datagrams
 * go out as the frames of the binary datagram reads (a 24-byte header with the sender, then the
 * payload). A message to send starts with a small header naming the destination: port (2 bytes),
 * address length (1 byte), the address as text; port 0 and no address send to the default peer.
 * UDP cannot push back: a datagram arriving while the WebSocket is congested is dropped and
 * counted (channel 2 tells how many).
 */
export class UdpAttachment implements Attachment {
  readonly kind = 'udp-socket';
  readonly resourceId: string;
  private nextSeq = 0;
  private backlog: (() => void)[] | null = [];
  private dropped = 0;
  private detached = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly socket: UdpSocket,
    private readonly options: UdpAttachOptions,
    private readonly settings: AttachSettings,
    private readonly onDetached: (attachment: UdpAttachment, code: number) => void,
  ) {
    this.resourceId = socket.id;
  }

  get writes(): boolean {
    return this.options.write;
  }

  async start(): Promise<void> {
    this.ws.on('message', this.onMessage);
    this.ws.on('close', this.onClose);
    const { endSeq } = this.socket.buffer;
    const from = this.options.fromSeq ?? endSeq;
    this.nextSeq = from;
    this.notice({ type: 'attached', resourceId: this.resourceId, protocol: this.options.protocol, from, endOffset: endSeq, read: this.options.read, write: this.options.write });
    if (this.options.read && from < endSeq) {
      const replay = await this.socket.read({ from, max: REPLAY_MAX, minDatagrams: 0, maxBytes: Number.MAX_SAFE_INTEGER, waitMs: 0 });
      for (const datagram of replay.datagrams) this.forward(datagram);
    }
    this.notice({ type: 'live', offset: this.nextSeq });
    const backlog = this.backlog ?? [];
    this.backlog = null;
    for (const run of backlog) run();
    if (this.socket.closed) this.detach(CLOSE_CODE.SOCKET_CLOSED, this.socket.closed.reason);
  }

  received(data: SocketEventMap['udp.datagram'], payload: Buffer, at: Date): void {
    if (!this.options.read || this.detached) return;
    const sender = { address: data.remoteAddress, port: data.remotePort, family: isIP(data.remoteAddress) === 6 ? 'IPv6' : 'IPv4' } as const;
    const datagram: Datagram = { seq: data.seq, data: payload, sender, receivedAt: at };
    if (this.backlog) this.backlog.push(() => this.forward(datagram));
    else this.forward(datagram);
  }

  socketClosed(data: SocketEventMap['udp.closed']): void {
    const run = (): void => {
      this.notice({ type: 'closed', reason: data.reason, errno: data.errno, bytesIn: data.bytesIn, bytesOut: data.bytesOut });
      this.detach(CLOSE_CODE.SOCKET_CLOSED, data.reason);
    };
    if (this.backlog) this.backlog.push(run);
    else run();
  }

  detach(code: number, reason: string): void {
    if (this.detached) return;
    this.detached = true;
    this.ws.off('message', this.onMessage);
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, closeReason(reason));
    this.onDetached(this, code);
  }

  private forward(datagram: Datagram): void {
    if (this.detached || datagram.seq < this.nextSeq) return;
    this.nextSeq = datagram.seq + 1;
    if (this.ws.bufferedAmount >= this.settings.highWaterBytes) {
      this.dropped++;
      this.notice({ type: 'dropped', datagrams: this.dropped });
      return;
    }
    const frame = encodeDatagramFrames([datagram]);
    const message = this.options.protocol === RAW_PROTOCOL ? frame : channelMessage(CHANNEL.FROM_PEER, frame);
    const release = this.options.releaseAuto ? () => this.delivered(datagram.seq + 1) : undefined;
    this.ws.send(message, { binary: true }, release);
  }

  private delivered(upTo: number): void {
    const { oldestSeq, endSeq } = this.socket.buffer;
    if (upTo > oldestSeq && upTo <= endSeq) this.socket.releaseUpTo(upTo);
  }

  private notice(notice: AttachNotice): void {
    if (this.options.protocol !== RAW_PROTOCOL && !this.detached) this.ws.send(noticeMessage(notice), { binary: true });
  }

  private readonly onMessage = (data: RawData, isBinary: boolean): void => {
    let bytes = data as Buffer;
    if (!isBinary) return this.detach(CLOSE_CODE.UNSUPPORTED, 'datagrams are binary messages, a destination header first');
    if (!this.options.write) return this.detach(CLOSE_CODE.UNSUPPORTED, 'this attachment does not write: attach with write=true');
    if (this.options.protocol !== RAW_PROTOCOL) {
      if (bytes[0] !== CHANNEL.TO_PEER) return this.detach(CLOSE_CODE.UNSUPPORTED, `channel ${bytes[0]} does not carry datagrams to the service`);
      bytes = bytes.subarray(1);
    }
    const parsed = parseSendMessage(bytes);
    if (typeof parsed === 'string') return this.detach(CLOSE_CODE.UNSUPPORTED, parsed);
    this.socket.send(parsed.payload, parsed.destination).catch((err: Error) => this.detach(CLOSE_CODE.SEND_FAILED, err.message));
  };

  private readonly onClose = (code: number): void => {
    this.detach(code, '');
  };
}

/** A datagram to send and where: the destination header, then the payload; a string says what is wrong with it. */
function parseSendMessage(bytes: Buffer): { destination: Partial<UdpDestination>; payload: Buffer } | string {
  if (bytes.length < SEND_HEADER_BYTES) return `a datagram message starts with a ${SEND_HEADER_BYTES}-byte header: port, address length`;
  const port = bytes.readUInt16BE(0);
  const addressLength = bytes[2];
  if (bytes.length < SEND_HEADER_BYTES + addressLength) return 'the message ends inside its destination address';
  const payload = bytes.subarray(SEND_HEADER_BYTES + addressLength);
  if (port === 0 && addressLength === 0) return { destination: {}, payload };
  const host = bytes.toString('latin1', SEND_HEADER_BYTES, SEND_HEADER_BYTES + addressLength);
  if (port === 0 || isIP(host) === 0) return 'the destination must be an IP address and a port from 1 to 65535 (or neither, for the default peer)';
  return { destination: { host, port }, payload };
}
