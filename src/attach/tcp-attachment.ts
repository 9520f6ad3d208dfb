import { Writable } from 'node:stream';
import { RawData, WebSocket } from 'ws';
import { SocketEventMap } from '../sockets/socket-events';
import { TcpConnection } from '../sockets/tcp-connection';
import { AttachNotice, AttachProtocol, CHANNEL, CLOSE_CODE, RAW_PROTOCOL, channelMessage, noticeMessage } from './attach-protocol';
import { Attachment, AttachSettings, closeReason } from './attachment';

export interface TcpAttachOptions {
  protocol: AttachProtocol;
  /** Replay the byte log from here, then go live; null starts live, at the next byte received. */
  fromOffset: number | null;
  /** Release the bytes as they are delivered to this client. */
  releaseAuto: boolean;
  read: boolean;
  write: boolean;
  /**
   * The stream the WebSocket's frames are written to (the upgraded request's socket), corked
   * while a turn's chunks are forwarded; null leaves every frame to its own write.
   */
  transport: Writable | null;
}

/**
 * One WebSocket attached to one TCP connection. Received bytes reach it through the service's
 * event subscription (`received`), each chunk with the byte-log offset it got: the replay reads
 * the log up to where the live chunks begin, and offsets drop any byte seen twice, so the switch
 * from replay to live has neither gap nor repeat. Its writes are the connection's ordinary sends.
 *
 * Backpressure both ways: while the WebSocket holds more than `settings.highWaterBytes` unsent,
 * it holds the connection (reading stops, TCP pushes back on the peer) until it is down to a
 * quarter of that; while the connection's write buffer holds that much, the WebSocket is paused
 * (its client is pushed back) until the send in flight reached the kernel.
 */
export class TcpAttachment implements Attachment {
  readonly kind = 'tcp-connection';
  readonly resourceId: string;
  /** The next offset this client gets: everything before it was sent to it. */
  private nextOffset = 0;
  /** Events that arrived while the replay was being read, run in order once it is sent. */
  private backlog: (() => void)[] | null = [];
  private holding = false;
  private detached = false;
  /** `options.transport` is corked until the end of this turn (see `forward`). */
  private corked = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly connection: TcpConnection,
    private readonly options: TcpAttachOptions,
    private readonly settings: AttachSettings,
    private readonly onDetached: (attachment: TcpAttachment, code: number) => void,
  ) {
    this.resourceId = connection.id;
  }

  get writes(): boolean {
    return this.options.write;
  }

  /** Sends the replay (if asked), then whatever arrived meanwhile; from then on chunks go out as they arrive. */
  async start(): Promise<void> {
    this.ws.on('message', this.onMessage);
    this.ws.on('close', this.onClose);
    const { endOffset } = this.connection.buffer;
    const from = this.options.fromOffset ?? endOffset;
    this.nextOffset = from;
    this.notice({ type: 'attached', resourceId: this.resourceId, protocol: this.options.protocol, from, endOffset, read: this.options.read, write: this.options.write });
    if (this.options.read && from < endOffset) {
      const replay = await this.connection.read({ from, maxBytes: endOffset - from, minBytes: 0, waitMs: 0 });
      for (const chunk of replay.chunks) this.forward(chunk, this.nextOffset, false);
    }
    this.notice({ type: 'live', offset: this.nextOffset });
    const backlog = this.backlog ?? [];
    this.backlog = null;
    for (const run of backlog) run();
    if (this.connection.inputEnded) this.onInputEnded();
  }

  received(chunk: Buffer, from: number): void {
    if (!this.options.read || this.detached) return;
    // Only a chunk that arrived while the replay was read can repeat bytes the replay sent.
    if (this.backlog) this.backlog.push(() => this.forward(chunk, from, true));
    else this.forward(chunk, from, false);
  }

  peerEnded(data: SocketEventMap['connection.peer-ended']): void {
    this.later(() => {
      this.notice({ type: 'peer-ended', endOffset: data.endOffset });
      this.onInputEnded();
    });
  }

  tlsEstablished(data: SocketEventMap['tls.established']): void {
    this.later(() => this.notice({ type: 'tls-established', protocol: data.protocol, cipher: data.cipher, alpnProtocol: data.alpnProtocol }));
  }

  socketClosed(data: SocketEventMap['connection.closed']): void {
    this.later(() => {
      this.notice({ type: 'closed', reason: data.reason, errno: data.errno, bytesIn: data.bytesIn, bytesOut: data.bytesOut });
      this.detach(CLOSE_CODE.SOCKET_CLOSED, data.reason);
    });
  }

  /** Closes the WebSocket with `code` (once) and lets go of the connection. */
  detach(code: number, reason: string): void {
    if (this.detached) return;
    this.detached = true;
    this.connection.unhold(this);
    this.ws.off('message', this.onMessage);
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, closeReason(reason));
    this.onDetached(this, code);
  }

  private later(run: () => void): void {
    if (this.detached) return;
    if (this.backlog) this.backlog.push(run);
    else run();
  }

  /** The peer ended or the connection closed: a raw reader that does not write has nothing more to wait for. */
  private onInputEnded(): void {
    if (this.connection.closed) {
      this.detach(CLOSE_CODE.SOCKET_CLOSED, this.connection.closed.reason);
      return;
    }
    if (this.options.protocol === RAW_PROTOCOL && !this.options.write) this.detach(CLOSE_CODE.PEER_ENDED, 'peer-end');
  }

  /**
   * Sends a chunk that starts at offset `from`. With `overlapping`, the bytes before
   * `nextOffset` were sent already (by the replay) and are cut off. A live chunk is sent whole:
   * one starting before `nextOffset` follows a STARTTLS switch, which took bytes back out of the
   * log for TLS and logs what TLS decrypts from there.
   */
  private forward(chunk: Buffer, from: number, overlapping: boolean): void {
    if (this.detached) return;
    const to = from + chunk.length;
    if (overlapping && to <= this.nextOffset) return;
    const fresh = overlapping && from < this.nextOffset ? chunk.subarray(this.nextOffset - from) : chunk;
    this.nextOffset = to;
    const message = this.options.protocol === RAW_PROTOCOL ? fresh : channelMessage(CHANNEL.FROM_PEER, fresh);
    this.cork();
    this.ws.send(message, { binary: true }, this.options.releaseAuto ? () => this.delivered(to) : this.onSent);
    if (!this.holding && this.ws.bufferedAmount >= this.settings.highWaterBytes) {
      this.holding = true;
      this.connection.hold(this);
    }
  }

  /**
   * The chunks a connection reads in one turn (up to 32 socket reads of 64 KiB) go to the kernel
   * in one `writev` when the turn ends, instead of one write per frame: each frame is still its
   * own message with its own offset, and nothing is copied. `ws` corks around each frame itself,
   * and a cork nests, so its frames wait for this one.
   */
  private cork(): void {
    const { transport } = this.options;
    if (this.corked || transport === null) return;
    this.corked = true;
    transport.cork();
    setImmediate(this.uncork);
  }

  private readonly uncork = (): void => {
    this.corked = false;
    const { transport } = this.options;
    if (transport !== null && transport.writableCorked > 0) transport.uncork();
  };

  private delivered(to: number): void {
    // A STARTTLS switch may have taken bytes back out of the log since they were sent.
    const { oldestOffset, endOffset } = this.connection.buffer;
    if (to > oldestOffset && to <= endOffset) this.connection.releaseUpTo(to);
    this.onSent();
  }

  private readonly onSent = (): void => {
    if (this.holding && this.ws.bufferedAmount <= this.settings.highWaterBytes / 4) {
      this.holding = false;
      this.connection.unhold(this);
    }
  };

  private notice(notice: AttachNotice): void {
    if (this.options.protocol !== RAW_PROTOCOL && !this.detached) this.ws.send(noticeMessage(notice), { binary: true });
  }

  private readonly onMessage = (data: RawData, isBinary: boolean): void => {
    const bytes = data as Buffer;
    if (this.options.protocol === RAW_PROTOCOL) {
      if (!this.options.write) return this.detach(CLOSE_CODE.UNSUPPORTED, 'this attachment does not write: attach with write=true');
      // A text message's data is its UTF-8 bytes already.
      this.send(bytes);
      return;
    }
    if (!isBinary || bytes.length === 0) return this.detach(CLOSE_CODE.UNSUPPORTED, 'channel messages are binary, a channel byte first');
    const channel = bytes[0];
    if (!this.options.write) return this.detach(CLOSE_CODE.UNSUPPORTED, 'this attachment does not write: attach with write=true');
    if (channel === CHANNEL.TO_PEER) this.send(bytes.subarray(1));
    else if (channel === CHANNEL.HALF_CLOSE) this.end();
    else this.detach(CLOSE_CODE.UNSUPPORTED, `channel ${channel} does not carry messages to the service`);
  };

  private send(bytes: Buffer): void {
    if (bytes.length === 0) return;
    const sent = this.connection.send([bytes], false);
    if (this.connection.pendingWriteBytes >= this.settings.highWaterBytes && !this.ws.isPaused) {
      this.ws.pause();
      void sent.finally(() => this.ws.resume()).catch(() => undefined);
    }
    sent.catch((err: Error) => this.detach(CLOSE_CODE.SEND_FAILED, err.message));
  }

  private end(): void {
    this.connection.send([], true).catch((err: Error) => this.detach(CLOSE_CODE.SEND_FAILED, err.message));
  }

  /** The client went away or closed: detach, and close the connection when its close code asks to. */
  private readonly onClose = (code: number): void => {
    this.detach(code, '');
    if (code === CLOSE_CODE.CLOSE_SOCKET) void this.connection.close('graceful');
    if (code === CLOSE_CODE.RESET_SOCKET) void this.connection.close('reset');
  };
}
