import { Socket } from 'node:net';
import { BufferBudget } from './buffer-budget';
import { ByteLog } from './byte-log';
import { SocketError, errnoOf } from './socket-error';
import { SocketBase, SocketInit } from './socket-base';
import { CloseInfo, CloseReason, Endpoint, ReceiveMode, SocketResource, toEndpoint } from './socket-types';
import { Waiters } from './waiters';

export const TcpConnectionState = {
  /** Both directions open. */
  OPEN: 'open',
  /** The peer sent FIN: every byte has arrived, the service can still send. */
  PEER_ENDED: 'peer-ended',
  /** The service sent FIN: it can still receive. */
  LOCAL_ENDED: 'local-ended',
  CLOSED: 'closed',
} as const;
export type TcpConnectionState = (typeof TcpConnectionState)[keyof typeof TcpConnectionState];

export type TcpDirection = 'inbound' | 'outbound';

export interface TcpConnectionOptions {
  mode: ReceiveMode;
  noDelay: boolean;
  keepAlive: boolean;
  keepAliveInitialDelayMs: number;
  /** Close the connection (reason `timeout`) after this long without traffic; 0 = never. */
  idleTimeoutMs: number;
  /** Unreleased bytes at which reading pauses, so TCP flow control pushes back on the peer. */
  maxBufferedBytes: number;
  /** Bytes queued for the peer beyond which `send` is refused. */
  maxPendingWriteBytes: number;
  /** How long a graceful close waits for the peer's FIN before resetting. */
  closeLingerMs: number;
}

export interface TcpConnectionInit extends SocketInit<TcpConnectionOptions> {
  direction: TcpDirection;
  listenerId: string | null;
  acceptIndex: number | null;
  /** Unreleased bytes across all connections; receiving pauses while it is spent. */
  budget: BufferBudget;
  onClosed: (connection: TcpConnection) => void;
}

export interface BufferReadRequest {
  from?: number;
  maxBytes: number;
  minBytes: number;
  until?: Buffer;
  waitMs: number;
  signal?: AbortSignal;
}

export interface BufferReadResult {
  from: number;
  nextOffset: number;
  /** The bytes in [from, nextOffset), as views of the chunks they arrived in (no copy). */
  chunks: Buffer[];
  oldestOffset: number;
  endOffset: number;
  eof: boolean;
  delimiterFound: boolean | null;
}

export interface SendResult {
  bytesSent: number;
  ended: boolean;
}

/** One TCP connection, inbound (accepted by a listener) or outbound, over a `net.Socket`. */
export class TcpConnection extends SocketBase<TcpConnectionOptions> implements SocketResource {
  readonly kind = 'tcp-connection';
  readonly direction: TcpDirection;
  readonly listenerId: string | null;
  readonly acceptIndex: number | null;
  readonly local: Endpoint | null;
  readonly remote: Endpoint | null;

  private readonly socket: Socket;
  private readonly log = new ByteLog();
  private readonly readers = new Waiters();
  private readonly budget: BufferBudget;
  /** Set once this connection's bytes went back to the budget; it holds none from then on. */
  private budgetReturned = false;
  private readonly onClosed: (connection: TcpConnection) => void;
  private currentState: TcpConnectionState = TcpConnectionState.OPEN;
  private closeInfo: CloseInfo | null = null;
  /** The reason recorded by the first thing that started the close (error, timeout, local). */
  private pendingReason: Omit<CloseInfo, 'at'> | null = null;
  private peerEnded = false;
  private pausedForCap = false;
  /** Set by a local close: bytes arriving during the linger are counted, not kept. */
  private closing = false;
  private lingerTimer: NodeJS.Timeout | null = null;
  /** Set while this turn's sends are gathered for one write (see `write`). */
  private corked = false;
  private readonly closedPromise: Promise<void>;
  bytesIn = 0;
  bytesOut = 0;
  lastActivityAt = new Date();

  constructor(socket: Socket, init: TcpConnectionInit) {
    super(init);
    this.socket = socket;
    this.direction = init.direction;
    this.listenerId = init.listenerId;
    this.acceptIndex = init.acceptIndex;
    this.budget = init.budget;
    this.onClosed = init.onClosed;
    this.local = toEndpoint(socket.localAddress, socket.localPort, socket.localFamily);
    this.remote = toEndpoint(socket.remoteAddress, socket.remotePort, socket.remoteFamily);

    socket.setNoDelay(this.options.noDelay);
    if (this.options.keepAlive) socket.setKeepAlive(true, this.options.keepAliveInitialDelayMs);
    if (this.options.idleTimeoutMs > 0) socket.setTimeout(this.options.idleTimeoutMs, () => this.onIdleTimeout());
    this.closedPromise = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onPeerEnd());
    socket.on('error', (err) => this.onError(err));
    socket.on('close', () => this.onClose());
    if (socket.destroyed) this.onClose();
  }

  get state(): TcpConnectionState {
    return this.currentState;
  }

  get closed(): CloseInfo | null {
    return this.closeInfo;
  }

  get paused(): boolean {
    return this.pausedForCap;
  }

  get buffer(): { oldestOffset: number; endOffset: number; heldBytes: number } {
    return { oldestOffset: this.log.oldestOffset, endOffset: this.log.endOffset, heldBytes: this.log.heldBytes };
  }

  /** Bytes accepted by `send` that the kernel has not taken yet. */
  get pendingWriteBytes(): number {
    return this.socket.writableLength;
  }

  /** Long-polls currently waiting on this connection. */
  get waitingReads(): number {
    return this.readers.size;
  }

  /**
   * Hands the bytes to the kernel (sendall semantics), given as the chunks they arrived in;
   * optionally half-closes afterwards.
   */
  async send(chunks: readonly Buffer[], end: boolean): Promise<SendResult> {
    this.assertWritable();
    let length = 0;
    for (const chunk of chunks) length += chunk.length;
    if (length > 0 && this.socket.writableLength + length > this.options.maxPendingWriteBytes) {
      throw new SocketError(
        'WRITE_BUFFER_FULL',
        `the peer is not reading: ${this.socket.writableLength} bytes are already queued and the limit is ${this.options.maxPendingWriteBytes}`,
        { limit: 'maxPendingWriteBytes', pendingWriteBytes: this.socket.writableLength },
      );
    }
    if (length > 0) {
      try {
        await this.write(chunks);
      } catch (err) {
        throw new SocketError('SOCKET_CLOSED', `the connection closed before the bytes were sent (${errnoOf(err)})`, {
          state: this.currentState,
        });
      }
      this.bytesOut += length;
      this.touch();
    }
    if (end) this.endLocally();
    return { bytesSent: length, ended: end };
  }

  /**
   * Sends arriving in the same turn of the event loop (concurrent requests on one connection),
   * and the chunks of each, reach the kernel in one `writev` when the turn ends, rather than one
   * `write` each. Resolves once the last chunk was handed over.
   */
  private write(chunks: readonly Buffer[]): Promise<void> {
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      setImmediate(this.uncork);
    }
    const last = chunks.length - 1;
    for (let i = 0; i < last; i++) this.socket.write(chunks[i]);
    return new Promise<void>((resolve, reject) => {
      this.socket.write(chunks[last], (err) => (err ? reject(err) : resolve()));
    });
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  /** Reads from the byte log without consuming; waits up to `waitMs` for enough bytes. */
  async read(request: BufferReadRequest): Promise<BufferReadResult> {
    const from = request.from ?? this.log.oldestOffset;
    this.assertReadableOffset(from);
    const search = { searchedTo: from };
    const ready = (): boolean => this.isReadReady(from, request, search);
    await this.readers.waitFor(ready, request.waitMs, request.signal);
    // A concurrent release may have freed bytes while this read waited.
    this.assertReadableOffset(from);
    let to = Math.min(this.log.endOffset, from + request.maxBytes);
    let delimiterFound: boolean | null = null;
    if (request.until) {
      const stop = this.log.offsetAfter(request.until, from, request.maxBytes, search.searchedTo);
      delimiterFound = stop >= 0;
      if (stop >= 0) to = stop;
    }
    const slice = this.log.chunksOf(from, to - from);
    return {
      from,
      nextOffset: slice.to,
      chunks: slice.chunks,
      oldestOffset: this.log.oldestOffset,
      endOffset: this.log.endOffset,
      eof: this.inputEnded && slice.to === this.log.endOffset,
      delimiterFound,
    };
  }

  /** Frees received bytes below `offset`; reading resumes when the log drops under its cap. */
  releaseUpTo(offset: number): void {
    if (offset > this.log.endOffset) {
      throw new SocketError('OFFSET_OUT_OF_RANGE', `upTo ${offset} is past the last received byte (endOffset ${this.log.endOffset})`, {
        endOffset: this.log.endOffset,
      });
    }
    const before = this.log.heldBytes;
    this.log.releaseUpTo(offset);
    // Resume this connection first: a budget with room wakes the others, and this one may be among them.
    this.resumeIfRoom();
    if (!this.budgetReturned) this.budget.remove(before - this.log.heldBytes);
  }

  /**
   * Gives this connection's held bytes back to the shared budget, once, when the registry
   * forgets it: its byte log goes with it.
   */
  returnBudget(): void {
    if (this.budgetReturned) return;
    this.budgetReturned = true;
    this.budget.cancelWait(this.onBudgetRoom);
    this.budget.remove(this.log.heldBytes);
  }

  /**
   * Graceful: send FIN, wait for the peer's (up to `closeLingerMs`), then reset if it has not
   * come. Reset: abort with RST at once. Resolves once the socket is closed. Idempotent.
   */
  async close(mode: 'graceful' | 'reset'): Promise<void> {
    if (this.currentState !== TcpConnectionState.CLOSED) {
      this.pendingReason ??= { reason: 'local', errno: null, message: null };
      this.closing = true;
      if (mode === 'reset') {
        this.socket.resetAndDestroy();
      } else {
        this.endLocally();
        this.socket.resume();
        this.lingerTimer ??= setTimeout(() => this.socket.resetAndDestroy(), this.options.closeLingerMs);
      }
    }
    await this.closedPromise;
  }

  /** The peer ended or the connection closed: no more bytes will arrive. */
  get inputEnded(): boolean {
    return this.peerEnded || this.currentState === TcpConnectionState.CLOSED;
  }

  /** `search` remembers how far a delimiter read has looked, so each new chunk is searched once. */
  private isReadReady(from: number, request: BufferReadRequest, search: { searchedTo: number }): boolean {
    if (this.inputEnded || from < this.log.oldestOffset) return true;
    const available = this.log.endOffset - from;
    if (available >= request.maxBytes) return true;
    if (request.until) {
      if (this.log.offsetAfter(request.until, from, request.maxBytes, search.searchedTo) >= 0) return true;
      search.searchedTo = this.log.endOffset;
      return false;
    }
    return available >= Math.max(1, request.minBytes);
  }

  private assertReadableOffset(from: number): void {
    if (from < this.log.oldestOffset) {
      throw new SocketError('OFFSET_RELEASED', `bytes before offset ${this.log.oldestOffset} were released; ${from} is no longer held`, {
        oldestOffset: this.log.oldestOffset,
      });
    }
    if (from > this.log.endOffset) {
      throw new SocketError('OFFSET_OUT_OF_RANGE', `offset ${from} is past the last received byte (endOffset ${this.log.endOffset})`, {
        endOffset: this.log.endOffset,
      });
    }
  }

  private assertWritable(): void {
    if (this.currentState === TcpConnectionState.CLOSED || this.currentState === TcpConnectionState.LOCAL_ENDED) {
      throw new SocketError('SOCKET_CLOSED', `connection ${this.id} is ${this.currentState}: it can no longer send`, {
        state: this.currentState,
      });
    }
  }

  private endLocally(): void {
    if (this.socket.writableEnded) return;
    this.socket.end();
    if (this.currentState === TcpConnectionState.OPEN) this.currentState = TcpConnectionState.LOCAL_ENDED;
    this.pendingReason ??= { reason: 'local', errno: null, message: null };
  }

  private onData(chunk: Buffer): void {
    const from = this.log.endOffset;
    this.bytesIn += chunk.length;
    this.touch();
    switch (this.closing ? 'discard' : this.options.mode) {
      case 'buffer':
        this.log.append(chunk);
        if (!this.budgetReturned) this.budget.add(chunk.length);
        break;
      case 'echo':
        this.log.skip(chunk.length);
        this.echo(chunk);
        break;
      case 'discard':
        this.log.skip(chunk.length);
        break;
    }
    this.events.publishFor(this, 'connection.data', { from, to: this.log.endOffset, byteCount: chunk.length }, chunk);
    // After the data event, so event streams show the bytes before the pause they caused.
    if (!this.pausedForCap && this.mustPause()) {
      this.pausedForCap = true;
      this.socket.pause();
      if (this.budget.exhausted) this.budget.waitForRoom(this.onBudgetRoom);
      this.events.publishFor(this, 'connection.paused', { heldBytes: this.log.heldBytes, cause: this.budget.exhausted ? 'total-cap' : 'cap' });
    }
    this.readers.notify();
  }

  /** Its own cap reached, or the shared budget spent while it holds bytes (so a release can free room). */
  private mustPause(): boolean {
    if (this.log.heldBytes >= this.options.maxBufferedBytes) return true;
    return this.budget.exhausted && this.log.heldBytes > 0 && !this.closing;
  }

  private readonly onBudgetRoom = (): void => this.resumeIfRoom();

  private resumeIfRoom(): void {
    if (!this.pausedForCap) return;
    if (this.mustPause()) {
      if (this.budget.exhausted) this.budget.waitForRoom(this.onBudgetRoom);
      return;
    }
    this.pausedForCap = false;
    if (!this.socket.destroyed) this.socket.resume();
    this.events.publishFor(this, 'connection.resumed', { heldBytes: this.log.heldBytes });
  }

  private echo(chunk: Buffer): void {
    if (this.socket.writableEnded) return;
    this.bytesOut += chunk.length;
    if (!this.socket.write(chunk)) {
      // The peer reads slower than it writes: stop reading until our echo drains.
      this.socket.pause();
      this.socket.once('drain', () => {
        if (!this.pausedForCap) this.socket.resume();
      });
    }
  }

  private onPeerEnd(): void {
    this.peerEnded = true;
    if (this.currentState === TcpConnectionState.OPEN) {
      this.currentState = TcpConnectionState.PEER_ENDED;
      this.pendingReason ??= { reason: 'peer-end', errno: null, message: null };
    }
    this.events.publishFor(this, 'connection.peer-ended', { endOffset: this.log.endOffset });
    // Servers that answer on their own (echo, discard) close when their client does, as the
    // tutorial's echo server does.
    if (this.options.mode !== 'buffer') this.endLocally();
    this.readers.notify();
  }

  private onError(err: Error): void {
    const errno = errnoOf(err);
    const reason: CloseReason = errno === 'ECONNRESET' || errno === 'EPIPE' ? 'peer-reset' : 'error';
    if (this.pendingReason?.reason !== 'timeout' && this.pendingReason?.reason !== 'local') {
      this.pendingReason = { reason, errno, message: err.message };
    }
  }

  private onIdleTimeout(): void {
    this.pendingReason = { reason: 'timeout', errno: null, message: `no traffic for ${this.options.idleTimeoutMs} ms` };
    this.socket.destroy();
  }

  private onClose(): void {
    if (this.currentState === TcpConnectionState.CLOSED) return;
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.currentState = TcpConnectionState.CLOSED;
    const pending = this.pendingReason ?? { reason: 'error', errno: null, message: 'the socket closed unexpectedly' };
    this.closeInfo = { ...pending, at: new Date() };
    this.events.publishFor(this, 'connection.closed', { reason: pending.reason, errno: pending.errno });
    this.readers.releaseAll();
    this.onClosed(this);
  }

  private touch(): void {
    this.lastActivityAt = new Date();
  }

}
