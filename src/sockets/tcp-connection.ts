import { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { BufferBudget } from './buffer-budget';
import { ByteLog } from './byte-log';
import { ConnectionFraming, FramingErrorInfo } from './framing/connection-framing';
import { encodeFrame, unframeable } from './framing/frame-encoder';
import { Frame } from './framing/frame-log';
import { Framing, FramingSetting, NO_FRAMING } from './framing/framing';
import { ConnectionRules } from './rules/connection-rules';
import { SocketError, errnoOf } from './socket-error';
import { SocketBase, SocketInit } from './socket-base';
import { CloseInfo, CloseReason, Endpoint, ReceiveMode, SocketResource } from './socket-types';
import { StageChain } from './stage-chain';
import { TlsError } from './tls/tls-error';
import { StartOffsets, TlsSession } from './tls/tls-session';
import { Transport } from './transport';
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
  /** How received bytes are cut into frames; none when not given. */
  framing?: FramingSetting;
}

export interface TcpConnectionInit extends SocketInit<TcpConnectionOptions> {
  direction: TcpDirection;
  listenerId: string | null;
  acceptIndex: number | null;
  /** Unreleased bytes across all connections; receiving pauses while it is spent. */
  budget: BufferBudget;
  onClosed: (connection: TcpConnection) => void;
  /** The TLS session `transport` runs over, for a connection that speaks TLS from its start. */
  tls?: TlsSession;
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

export interface FrameReadRequest {
  from?: number;
  max: number;
  /** With `waitMs`: frames from `from` worth answering for (at most `max`). */
  minFrames: number;
  /** Data bytes beyond which no further frame is added (one frame is always returned). */
  maxBytes: number;
  waitMs: number;
  signal?: AbortSignal;
}

/** A frame read: each frame with its data as views of the byte log's chunks (no copy). */
export interface FrameReadResult {
  from: number;
  nextIndex: number;
  frames: { frame: Frame; data: Buffer[] }[];
  oldestIndex: number;
  endIndex: number;
  /** No more frames will come: the input ended (every frame was returned) or framing stopped. */
  eof: boolean;
  error: FramingErrorInfo | null;
}

/** A connection's framing as its representation shows it. */
export interface FramingStatus {
  setting: FramingSetting;
  framesIn: number;
  framesOut: number;
  oldestIndex: number;
  endIndex: number;
  heldFrames: number;
  error: FramingErrorInfo | null;
}

/** The proxy a connection is half of, and its other half. */
export interface ProxyLink {
  proxyId: string;
  peerConnectionId: string;
}

/** What `closed` will report, recorded by the first thing that started the close. */
type CloseCause = Omit<CloseInfo, 'at'>;

const LOCAL: CloseCause = { reason: 'local', errno: null, message: null };
const PEER_END: CloseCause = { reason: 'peer-end', errno: null, message: null };
const LINGER_EXPIRED: CloseCause = { reason: 'linger-expired', errno: null, message: 'the peer sent no FIN within the linger time; the connection was reset' };

/**
 * Everything that changes over a connection's life, in one place. `phase` is the named state
 * (what `state` reports) and only `transition` changes it; the other fields say what is in
 * progress within a phase.
 */
interface ConnectionState {
  phase: TcpConnectionState;
  /** The peer's FIN arrived. The phase shows it only when the peer ended first. */
  peerEnded: boolean;
  cause: CloseCause | null;
  /** A local close was asked for: bytes arriving from then on are counted, not kept. */
  closing: 'graceful' | 'reset' | null;
  /** Runs while a graceful close waits for the peer's FIN; resets the connection when it fires. */
  linger: NodeJS.Timeout | null;
  /** Reading is stopped at a cap, its own or the shared budget's. */
  paused: boolean;
  /** Live consumers that cannot keep up (see `hold`): reading stays stopped while any holds. */
  holders: Set<object>;
  /** This turn's sends are being gathered for one write (see `write`). */
  corked: boolean;
  /** Its bytes went back to the shared budget (the registry forgot it); it holds none from then on. */
  budgetReturned: boolean;
  proxyLink: ProxyLink | null;
  closed: CloseInfo | null;
  bytesIn: number;
  bytesOut: number;
  lastActivityAt: Date;
}

/**
 * One TCP connection, inbound (accepted by a listener) or outbound. Its bytes travel over a
 * `Transport` (a socket today, TLS later) and through its `stages`: received bytes from the
 * transport through the stages to the receive mode, sent bytes from `send` through the stages
 * to the transport.
 */
export class TcpConnection extends SocketBase<TcpConnectionOptions> implements SocketResource {
  readonly kind = 'tcp-connection';
  readonly direction: TcpDirection;
  readonly listenerId: string | null;
  readonly acceptIndex: number | null;
  readonly local: Endpoint | null;
  readonly remote: Endpoint | null;
  /** Where framing, rules and faults plug into the byte path. */
  readonly stages: StageChain;

  /** Replaced once, by `startTls`. */
  private transport: Transport;
  /** The transport's stream, held directly: every chunk and write goes through it. */
  private stream: Duplex;
  private tlsSession: TlsSession | null;
  private readonly log = new ByteLog();
  private readonly readers = new Waiters();
  /** Created when a framing is first set, so a connection that never frames carries nothing for it. */
  private framing: ConnectionFraming | null = null;
  /** The holder `echo` stops reading with while its echo cannot drain. */
  private readonly echoHold = {};
  /** Its reply rules; null while it has none. */
  private replyRules: ConnectionRules | null = null;
  private readonly sendHolders = new Set<object>();
  private readonly drainWaiters = new Set<() => void>();
  private readonly frameWatchers = new Set<(data: Buffer) => void>();
  private readonly budget: BufferBudget;
  private readonly onClosed: (connection: TcpConnection) => void;
  private readonly closedPromise: Promise<void>;
  private resolveClosed!: () => void;
  private readonly current: ConnectionState = {
    phase: TcpConnectionState.OPEN,
    peerEnded: false,
    cause: null,
    closing: null,
    linger: null,
    paused: false,
    holders: new Set(),
    corked: false,
    budgetReturned: false,
    proxyLink: null,
    closed: null,
    bytesIn: 0,
    bytesOut: 0,
    lastActivityAt: new Date(),
  };

  constructor(transport: Transport, init: TcpConnectionInit) {
    super(init);
    this.transport = transport;
    this.stream = transport.stream;
    this.direction = init.direction;
    this.listenerId = init.listenerId;
    this.acceptIndex = init.acceptIndex;
    this.budget = init.budget;
    this.onClosed = init.onClosed;
    this.local = transport.local;
    this.remote = transport.remote;
    this.stages = new StageChain(this.deliver, this.transmit);
    this.tlsSession = init.tls ?? null;

    transport.setNoDelay(this.options.noDelay);
    if (this.options.keepAlive) transport.setKeepAlive(true, this.options.keepAliveInitialDelayMs);
    if (this.options.idleTimeoutMs > 0) transport.setIdleTimeout(this.options.idleTimeoutMs, () => this.onIdleTimeout());
    this.closedPromise = new Promise((resolve) => (this.resolveClosed = resolve));
    this.attach(this.stream);
    if (init.options.framing?.framing) this.setFraming(init.options.framing);
  }

  /** Its TLS session; null for plain TCP. */
  get tls(): TlsSession | null {
    return this.tlsSession;
  }

  get state(): TcpConnectionState {
    return this.current.phase;
  }

  get closed(): CloseInfo | null {
    return this.current.closed;
  }

  get paused(): boolean {
    return this.current.paused;
  }

  get bytesIn(): number {
    return this.current.bytesIn;
  }

  get bytesOut(): number {
    return this.current.bytesOut;
  }

  get lastActivityAt(): Date {
    return this.current.lastActivityAt;
  }

  get buffer(): { oldestOffset: number; endOffset: number; heldBytes: number } {
    return { oldestOffset: this.log.oldestOffset, endOffset: this.log.endOffset, heldBytes: this.log.heldBytes };
  }

  /** Bytes accepted by `send` that the kernel has not taken yet. */
  get pendingWriteBytes(): number {
    return this.stream.writableLength;
  }

  get framingStatus(): FramingStatus {
    const framing = this.framing;
    if (framing === null) return { setting: NO_FRAMING, framesIn: 0, framesOut: 0, oldestIndex: 0, endIndex: 0, heldFrames: 0, error: null };
    const { frames } = framing;
    return {
      setting: framing.setting,
      framesIn: frames.endIndex,
      framesOut: framing.framesOut,
      oldestIndex: frames.oldestIndex,
      endIndex: frames.endIndex,
      heldFrames: frames.heldFrames,
      error: framing.error,
    };
  }

  /** The proxy this connection is half of; null for a connection of its own. */
  get proxyLink(): ProxyLink | null {
    return this.current.proxyLink;
  }

  /** Marks it as half of a proxy's pair (once, when the pair is made). */
  linkToProxy(link: ProxyLink): void {
    this.current.proxyLink ??= link;
  }

  /** True while more is queued for the peer than the transport wants to hold, or a stage holds back too much (see `holdSends`). */
  get writeBacklogged(): boolean {
    return this.stream.writableNeedDrain || this.sendHolders.size > 0;
  }

  /** Calls `listener` once the queued writes have drained and no stage holds sends back (or the connection closed). */
  onceDrained(listener: () => void): void {
    const stream = this.stream;
    const done = (): void => {
      stream.off('drain', check);
      stream.off('close', done);
      this.drainWaiters.delete(check);
      listener();
    };
    const check = (): void => {
      if (!this.writeBacklogged) done();
    };
    stream.on('drain', check);
    stream.on('close', done);
    this.drainWaiters.add(check);
  }

  /**
   * A stage on the send side holds more bytes than it should (a slow fault): whoever feeds this
   * connection (a proxy's other half) waits as for a full write buffer, until `unholdSends`.
   */
  holdSends(holder: object): void {
    this.sendHolders.add(holder);
  }

  unholdSends(holder: object): void {
    if (!this.sendHolders.delete(holder)) return;
    for (const check of [...this.drainWaiters]) check();
  }

  /** Framing cuts what it receives into frames now (else the rules and fault triggers see chunks). */
  get framingActive(): boolean {
    return this.framing?.active === true;
  }

  /** Calls `listener` with each frame's data as framing indexes it, until the returned function is called. */
  watchFrames(listener: (data: Buffer) => void): () => void {
    this.frameWatchers.add(listener);
    return () => this.frameWatchers.delete(listener);
  }

  get rules(): ConnectionRules | null {
    return this.replyRules;
  }

  /** Runs `rules` on what reaches the byte log from now on; null stops them. */
  setRules(rules: ConnectionRules | null): void {
    this.replyRules?.dispose();
    this.replyRules = this.current.phase === TcpConnectionState.CLOSED ? null : rules;
  }

  /** Long-polls currently waiting on this connection. */
  get waitingReads(): number {
    return this.readers.size;
  }

  /** The peer ended or the connection closed: no more bytes will arrive. */
  get inputEnded(): boolean {
    return this.current.peerEnded || this.current.phase === TcpConnectionState.CLOSED;
  }

  /**
   * Hands the bytes to the kernel (sendall semantics), given as the chunks they arrived in;
   * optionally half-closes afterwards.
   */
  async send(chunks: readonly Buffer[], end: boolean): Promise<SendResult> {
    this.assertWritable();
    const length = totalLength(chunks);
    this.assertRoomFor(length);
    if (length > 0) {
      try {
        await (this.stages.isEmpty ? this.write(chunks, length) : this.writeThroughStages(chunks));
      } catch (err) {
        throw new SocketError('SOCKET_CLOSED', `the connection closed before the bytes were sent (${errnoOf(err)})`, { state: this.current.phase });
      }
      this.touch();
    }
    if (end) this.endLocally();
    return { bytesSent: length, ended: end };
  }

  /**
   * Sends each payload as one frame of the connection's framing (its delimiter or length prefix
   * added), all in one write; refused whole when the connection has no framing or a payload does
   * not fit it.
   */
  async sendFrames(payloads: readonly Buffer[], end: boolean): Promise<SendResult> {
    const result = await this.send(this.encodeFrames(payloads), end);
    this.framing?.countSent(payloads.length);
    return result;
  }

  /**
   * `send` for a caller that does not wait for the kernel (reply rules): the bytes go to the
   * transport now, so a reply leaves in the turn that read its frame rather than when the turn
   * ends. Throws what `send` rejects with.
   */
  sendNow(chunks: readonly Buffer[]): void {
    this.assertWritable();
    const length = totalLength(chunks);
    this.assertRoomFor(length);
    if (length === 0) return;
    if (this.stages.isEmpty) {
      for (const chunk of chunks) this.stream.write(chunk);
      this.current.bytesOut += length;
    } else {
      for (const chunk of chunks) this.stages.send(chunk);
    }
    this.touch();
  }

  /** The framing frames are sent with (and cut with); null when it has none. */
  get sendFraming(): Framing | null {
    return this.framing?.setting.framing ?? null;
  }

  /** Counts frames sent through `sendNow` by a caller that framed them itself (reply rules). */
  countFramesSent(frames: number): void {
    this.framing?.countSent(frames);
  }

  /** Resolves once the transport has taken everything written before the call (or can take nothing more). */
  whenWritten(): Promise<void> {
    const stream = this.stream;
    if (stream.writableEnded || stream.destroyed) return Promise.resolve();
    return new Promise((resolve) => stream.write(EMPTY, () => resolve()));
  }

  /**
   * Cuts received bytes into frames from now on as `setting` says (none stops). The bytes held
   * after the last frame are framed at once; the frames found so far stay readable.
   */
  setFraming(setting: FramingSetting): void {
    this.framing ??= new ConnectionFraming(this.log, { onFrames: this.onFrames, onFault: this.onFramingFault });
    this.framing.configure(setting);
    this.syncFramingStage();
    this.readers.notify();
  }

  /** Reads frames by index without consuming them; waits up to `waitMs` for `minFrames`. */
  async readFrames(request: FrameReadRequest): Promise<FrameReadResult> {
    // Looked up afresh: a connection without framing gets its ConnectionFraming once one is set.
    const oldestIndex = (): number => this.framing?.frames.oldestIndex ?? 0;
    const endIndex = (): number => this.framing?.frames.endIndex ?? 0;
    const from = request.from ?? oldestIndex();
    this.assertReadableIndex(from);
    const enough = Math.max(1, Math.min(request.minFrames, request.max));
    const ready = (): boolean => this.inputEnded || !this.framing?.active || from < oldestIndex() || endIndex() - from >= enough;
    await this.readers.waitFor(ready, request.waitMs, request.signal);
    // A concurrent release may have freed frames while this read waited.
    this.assertReadableIndex(from);
    const framing = this.framing;
    const found = framing?.frames.read(from, request.max, request.maxBytes) ?? [];
    const nextIndex = from + found.length;
    return {
      from,
      nextIndex,
      frames: found.map((frame) => ({ frame, data: this.log.chunksOf(frame.dataFrom, frame.dataTo - frame.dataFrom).chunks })),
      oldestIndex: oldestIndex(),
      endIndex: endIndex(),
      eof: (this.inputEnded || !framing?.active) && nextIndex === endIndex(),
      error: framing?.error ?? null,
    };
  }

  /** Frees the frames below `index` and the bytes they lie in. */
  releaseFramesUpTo(index: number): void {
    const endIndex = this.framing?.frames.endIndex ?? 0;
    if (index > endIndex) {
      throw new SocketError('OFFSET_OUT_OF_RANGE', `upTo ${index} is past the last frame (endIndex ${endIndex})`, { endIndex });
    }
    const to = this.framing?.frames.releaseUpTo(index) ?? null;
    if (to !== null) this.releaseUpTo(to);
  }

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
    this.framing?.frames.releaseBelowOffset(this.log.oldestOffset);
    // Resume this connection first: a budget with room wakes the others, and this one may be among them.
    this.resumeIfRoom();
    if (!this.current.budgetReturned) this.budget.remove(before - this.log.heldBytes);
  }

  /**
   * Stops reading for a live consumer that cannot keep up (an attached WebSocket whose client
   * reads slowly, a proxy's other half that cannot take more yet), as the buffer cap does: TCP pushes back on the peer until every holder let go.
   */
  hold(holder: object): void {
    this.current.holders.add(holder);
    this.stream.pause();
  }

  /** Lets go of `hold`; reading resumes when nothing else keeps it stopped. */
  unhold(holder: object): void {
    if (!this.current.holders.delete(holder)) return;
    if (!this.readingStopped && !this.stream.destroyed) this.stream.resume();
  }

  /**
   * Gives this connection's held bytes back to the shared budget, once, when the registry
   * forgets it: its byte log goes with it.
   */
  returnBudget(): void {
    if (this.current.budgetReturned) return;
    this.current.budgetReturned = true;
    this.budget.cancelWait(this.onBudgetRoom);
    this.budget.remove(this.log.heldBytes);
  }

  /**
   * STARTTLS: the connection carries on over TLS, `begin` starting it over the plain stream.
   * Received bytes from `inOffset` on (a ClientHello that arrived before the call) leave the
   * byte log and go to TLS first, so nothing is lost; what TLS decrypts is logged from
   * `inOffset` on. Resolves once the handshake ended, either way: a failed one closes the
   * connection.
   */
  async startTls(inOffset: number, begin: (stream: Duplex, base: Transport, startOffsets: StartOffsets) => TlsSession): Promise<TlsSession> {
    this.assertUpgradable(inOffset);
    const plain = this.stream;
    const base = this.transport;
    this.detach(plain);
    if (this.current.corked) {
      this.current.corked = false;
      plain.uncork();
    }
    const early: Buffer[] = [];
    const handedBack = this.log.takeFrom(inOffset);
    if (handedBack.length > 0) {
      early.push(handedBack);
      if (!this.current.budgetReturned) this.budget.remove(handedBack.length);
    }
    const session = begin(plainSide(plain, early), base, { in: inOffset, out: this.current.bytesOut });
    this.tlsSession = session;
    this.transport = session.transport;
    this.stream = session.transport.stream;
    this.attach(this.stream);
    if (this.readingStopped) this.stream.pause();
    await session.settled;
    return session;
  }

  /**
   * Graceful: send FIN, wait for the peer's (up to `closeLingerMs`), then reset if it has not
   * come (reason `linger-expired`). Reset: abort with RST at once. Resolves once the transport
   * is closed. Idempotent.
   */
  async close(mode: 'graceful' | 'reset'): Promise<void> {
    const current = this.current;
    if (current.phase !== TcpConnectionState.CLOSED && current.closing !== 'reset') {
      current.cause ??= LOCAL;
      current.closing = mode;
      if (mode === 'reset') {
        this.transport.reset();
      } else {
        this.endLocally();
        this.stream.resume();
        current.linger ??= setTimeout(() => this.onLingerExpired(), this.options.closeLingerMs);
      }
    }
    await this.closedPromise;
  }

  private attach(stream: Duplex): void {
    stream.on('data', this.onStreamData);
    stream.on('end', this.onStreamEnd);
    stream.on('error', this.onStreamError);
    stream.on('close', this.onStreamClose);
    if (stream.destroyed) this.onStreamClose();
  }

  /** Stops listening to the plain stream when TLS takes it over; an error listener stays, so nothing is ever unhandled. */
  private detach(stream: Duplex): void {
    stream.off('data', this.onStreamData);
    stream.off('end', this.onStreamEnd);
    stream.off('close', this.onStreamClose);
    stream.pause();
  }

  private readonly onStreamData = (chunk: Buffer): void => this.onData(chunk);
  private readonly onStreamEnd = (): void => this.onPeerEnd();
  private readonly onStreamError = (err: Error): void => this.onError(err);
  private readonly onStreamClose = (): void => {
    this.transition(TcpConnectionState.CLOSED);
    this.resolveClosed();
  };

  private assertUpgradable(inOffset: number): void {
    const refuse = (why: string): never => {
      throw new TlsError('TLS_UPGRADE_REFUSED', `connection ${this.id} cannot start TLS: ${why}`, { state: this.current.phase });
    };
    if (this.tlsSession) refuse(`it already speaks TLS (${this.tlsSession.info.state})`);
    if (this.current.phase !== TcpConnectionState.OPEN || this.current.closing) refuse(`it is ${this.current.phase}, and TLS needs both directions open`);
    if (this.options.mode !== 'buffer') refuse(`its mode is ${this.options.mode}: only a buffer connection keeps the bytes TLS may need`);
    if (inOffset < this.log.oldestOffset) refuse(`bytes before offset ${this.log.oldestOffset} were released; ${inOffset} is no longer held`);
    if (inOffset > this.log.endOffset) refuse(`offset ${inOffset} is past the last received byte (endOffset ${this.log.endOffset})`);
    // Frames are indexed by byte-log offset: bytes taken back out of the log would leave frames pointing past its end.
    if (this.framing !== null && inOffset < this.log.endOffset) refuse(`it is framed, and bytes from offset ${inOffset} on would have to leave the byte log; upgrade before they arrive`);
  }

  /**
   * The one place the phase changes. Ending a direction only moves an open connection (the
   * first side to end names the phase); closing is final and settles everything left.
   */
  private transition(to: TcpConnectionState): void {
    const current = this.current;
    if (current.phase === TcpConnectionState.CLOSED || current.phase === to) return;
    if (to !== TcpConnectionState.CLOSED) {
      if (current.phase === TcpConnectionState.OPEN) current.phase = to;
      return;
    }
    current.phase = TcpConnectionState.CLOSED;
    if (current.linger) clearTimeout(current.linger);
    current.linger = null;
    const cause = current.cause ?? { reason: 'error', errno: null, message: 'the socket closed unexpectedly' };
    current.closed = { ...cause, at: new Date() };
    const { framesIn, framesOut } = this.framingStatus;
    this.events.publish(this, 'connection.closed', { reason: cause.reason, errno: cause.errno, bytesIn: current.bytesIn, bytesOut: current.bytesOut, framesIn, framesOut });
    this.readers.releaseAll();
    this.replyRules?.dispose();
    this.onClosed(this);
  }

  /**
   * Sends arriving in the same turn of the event loop (concurrent requests on one connection),
   * and the chunks of each, reach the kernel in one `writev` when the turn ends, rather than one
   * `write` each. Resolves once the last chunk was handed over.
   */
  private write(chunks: readonly Buffer[], length: number): Promise<void> {
    this.cork();
    const last = chunks.length - 1;
    for (let i = 0; i < last; i++) this.stream.write(chunks[i]);
    return new Promise<void>((resolve, reject) => {
      this.stream.write(chunks[last], (err) => {
        if (err) return reject(err);
        this.current.bytesOut += length;
        resolve();
      });
    });
  }

  /**
   * The same through the stages: what they pass on reaches `transmit`, and the send answers
   * once the transport has taken everything written before it (an empty write marks the spot).
   */
  private writeThroughStages(chunks: readonly Buffer[]): Promise<void> {
    this.cork();
    for (const chunk of chunks) this.stages.send(chunk);
    return new Promise<void>((resolve, reject) => this.stream.write(EMPTY, (err) => (err ? reject(err) : resolve())));
  }

  private cork(): void {
    if (this.current.corked) return;
    this.current.corked = true;
    this.stream.cork();
    setImmediate(this.uncork);
  }

  private readonly uncork = (): void => {
    this.current.corked = false;
    this.stream.uncork();
  };

  /** The end of the chain's send side: bytes the stages passed on (and echoed bytes) go to the transport. */
  private readonly transmit = (chunk: Buffer): void => {
    this.current.bytesOut += chunk.length;
    this.stream.write(chunk);
  };

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

  /** Refuses a read (or an attach replay) from an offset released already (410) or not yet received (416). */
  assertReadableOffset(from: number): void {
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

  private assertReadableIndex(from: number): void {
    const frames = this.framing?.frames;
    const oldestIndex = frames?.oldestIndex ?? 0;
    const endIndex = frames?.endIndex ?? 0;
    if (from < oldestIndex) {
      throw new SocketError('OFFSET_RELEASED', `frames before index ${oldestIndex} were released; ${from} is no longer held`, { oldestIndex });
    }
    if (from > endIndex) throw new SocketError('OFFSET_OUT_OF_RANGE', `frame index ${from} is past the last frame (endIndex ${endIndex})`, { endIndex });
  }

  /** The framing stage is in the chain exactly while it cuts frames, the last before the byte log; otherwise the byte path does not pass it. */
  private syncFramingStage(): void {
    const framing = this.framing;
    if (framing === null) return;
    const names = this.stages.names;
    const inChain = names.includes(framing.name);
    if (framing.active && !inChain) this.stages.add(framing, names[names.length - 1]);
    if (!framing.active && inChain) this.stages.remove(framing.name);
  }

  private readonly onFrames = (frames: readonly Frame[]): void => {
    for (const frame of frames) {
      const size = frame.dataTo - frame.dataFrom;
      const payload = frame.from >= this.log.oldestOffset ? this.log.bytes(frame.dataFrom, size) : undefined;
      this.events.publish(this, 'connection.frame', { index: frame.index, from: frame.from, to: frame.to, size }, payload, frame.receivedAt);
      this.replyRules?.frame(frame, payload);
      if (payload !== undefined && this.frameWatchers.size > 0) for (const watcher of [...this.frameWatchers]) watcher(payload);
    }
    this.readers.notify();
  };

  private readonly onFramingFault = (error: FramingErrorInfo): void => {
    this.syncFramingStage();
    const onError = this.framing?.setting.onError ?? 'record';
    this.events.publish(this, 'connection.framing-error', { offset: error.offset, message: error.message, action: onError });
    this.readers.notify();
    if (onError === 'close' && this.current.phase !== TcpConnectionState.CLOSED) {
      this.current.cause = { reason: 'framing-error', errno: null, message: error.message };
      this.stream.destroy();
    }
  };

  /** Refuses `length` more bytes while the peer is not reading or a stage holds sends back. */
  private assertRoomFor(length: number): void {
    if (length === 0) return;
    const queued = this.stream.writableLength;
    if (queued + length > this.options.maxPendingWriteBytes) {
      throw new SocketError('WRITE_BUFFER_FULL', `the peer is not reading: ${queued} bytes are already queued and the limit is ${this.options.maxPendingWriteBytes}`, {
        limit: 'maxPendingWriteBytes',
        pendingWriteBytes: queued,
      });
    }
    // A stage holding back as much as the write buffer may (a slow fault) is a full buffer too.
    if (this.sendHolders.size > 0) {
      throw new SocketError('WRITE_BUFFER_FULL', `a fault on connection ${this.id} holds back the limit of ${this.options.maxPendingWriteBytes} bytes; send again once it passed them on`, {
        limit: 'maxPendingWriteBytes',
        pendingWriteBytes: queued,
      });
    }
  }

  /** Each payload as one frame of the connection's framing, ready to write; refused whole when the connection has no framing or a payload does not fit it. */
  private encodeFrames(payloads: readonly Buffer[]): Buffer[] {
    const framing = this.sendFraming;
    if (framing === null) throw new SocketError('NO_FRAMING', `connection ${this.id} has no framing: set one (PUT …/framing) to send frames`);
    const chunks: Buffer[] = [];
    let length = 0;
    payloads.forEach((payload, index) => {
      const problem = unframeable(framing, payload);
      if (problem !== null) throw new SocketError('INVALID_PAYLOAD', `frame ${index}: ${problem}`, { frame: index });
      for (const chunk of encodeFrame(framing, payload)) {
        chunks.push(chunk);
        length += chunk.length;
      }
    });
    // Small frames go as one buffer: a writev of tiny buffers (even a reply and its delimiter) costs more than copying them.
    return chunks.length > 1 && length <= SMALL_FRAMES_BYTES ? [Buffer.concat(chunks, length)] : chunks;
  }

  private assertWritable(): void {
    const { phase } = this.current;
    if (phase === TcpConnectionState.CLOSED || phase === TcpConnectionState.LOCAL_ENDED) {
      throw new SocketError('SOCKET_CLOSED', `connection ${this.id} is ${phase}: it can no longer send`, { state: phase });
    }
  }

  private endLocally(): void {
    if (this.stream.writableEnded) return;
    this.stream.end();
    this.current.cause ??= LOCAL;
    this.transition(TcpConnectionState.LOCAL_ENDED);
  }

  private onData(chunk: Buffer): void {
    this.current.bytesIn += chunk.length;
    this.touch();
    const rules = this.replyRules;
    if (rules === null) return this.stages.receive(chunk);
    // The replies to the chunk's frames leave together, in this turn, once it has been through.
    rules.startChunk();
    try {
      this.stages.receive(chunk);
    } finally {
      rules.endChunk();
    }
  }

  /** The end of the chain's receive side: the receive mode handles what the stages let through. */
  private readonly deliver = (chunk: Buffer): void => {
    const from = this.log.endOffset;
    switch (this.current.closing ? 'discard' : this.options.mode) {
      case 'buffer':
        this.log.append(chunk);
        if (!this.current.budgetReturned) this.budget.add(chunk.length);
        break;
      case 'echo':
        this.log.skip(chunk.length);
        this.echo(chunk);
        break;
      case 'discard':
        this.log.skip(chunk.length);
        break;
    }
    this.events.publish(this, 'connection.data', { from, to: this.log.endOffset, byteCount: chunk.length }, chunk);
    if (this.current.closing === null) this.replyRules?.received(chunk, from, this.framing?.active === true);
    // After the data event, so event streams show the bytes before the pause they caused.
    if (!this.current.paused && this.mustPause()) {
      this.current.paused = true;
      this.stream.pause();
      if (this.budget.exhausted) this.budget.waitForRoom(this.onBudgetRoom);
      this.events.publish(this, 'connection.paused', { heldBytes: this.log.heldBytes, cause: this.budget.exhausted ? 'total-cap' : 'cap' });
    }
    this.readers.notify();
  };

  /** Its own cap reached, or the shared budget spent while it holds bytes (so a release can free room). */
  private mustPause(): boolean {
    if (this.log.heldBytes >= this.options.maxBufferedBytes) return true;
    return this.budget.exhausted && this.log.heldBytes > 0 && this.current.closing === null;
  }

  private readonly onBudgetRoom = (): void => this.resumeIfRoom();

  /** At a cap, or held by a live consumer. */
  private get readingStopped(): boolean {
    return this.current.paused || this.current.holders.size > 0;
  }

  private resumeIfRoom(): void {
    if (!this.current.paused) return;
    if (this.mustPause()) {
      if (this.budget.exhausted) this.budget.waitForRoom(this.onBudgetRoom);
      return;
    }
    this.current.paused = false;
    if (!this.readingStopped && !this.stream.destroyed) this.stream.resume();
    this.events.publish(this, 'connection.resumed', { heldBytes: this.log.heldBytes });
  }

  private echo(chunk: Buffer): void {
    if (this.stream.writableEnded) return;
    this.stages.send(chunk);
    if (this.writeBacklogged && !this.current.holders.has(this.echoHold)) {
      // The peer reads slower than it writes, or a fault holds the echo back: stop reading until the echo drains.
      this.hold(this.echoHold);
      this.onceDrained(() => this.unhold(this.echoHold));
    }
  }


  private onPeerEnd(): void {
    const current = this.current;
    current.peerEnded = true;
    if (current.phase === TcpConnectionState.OPEN) current.cause ??= PEER_END;
    this.transition(TcpConnectionState.PEER_ENDED);
    this.events.publish(this, 'connection.peer-ended', { endOffset: this.log.endOffset });
    this.replyRules?.peerEnded();
    // Servers that answer on their own (echo, discard) close when their client does, as the
    // tutorial's echo server does.
    if (this.options.mode !== 'buffer') this.endLocally();
    this.readers.notify();
  }

  /** An error names the close unless a cause that explains it better came first (our own close, a timeout). */
  private onError(err: Error): void {
    const reason = this.current.cause?.reason;
    if (reason === 'timeout' || reason === 'local' || reason === 'linger-expired' || reason === 'framing-error') return;
    const errno = errnoOf(err);
    const kind: CloseReason = errno === 'ECONNRESET' || errno === 'EPIPE' ? 'peer-reset' : 'error';
    this.current.cause = { reason: kind, errno, message: err.message };
  }

  private onIdleTimeout(): void {
    this.current.cause = { reason: 'timeout', errno: null, message: `no traffic for ${this.options.idleTimeoutMs} ms` };
    this.stream.destroy();
  }

  private onLingerExpired(): void {
    this.current.linger = null;
    this.current.cause = LINGER_EXPIRED;
    this.transport.reset();
  }

  private touch(): void {
    this.current.lastActivityAt = new Date();
  }
}

/** Written after a send's chunks when stages are in the way, and by `whenWritten`: its callback says everything before it was handed over. */
const EMPTY = Buffer.alloc(0);

function totalLength(chunks: readonly Buffer[]): number {
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  return length;
}

/** Frames of a framed send up to this many bytes in all are copied into one buffer before the write. */
const SMALL_FRAMES_BYTES = 64 * 1024;

/**
 * The plain side of a STARTTLS upgrade as a stream of its own, `early` bytes first. Node's TLS
 * reads a `net.Socket` straight from its handle, past bytes the connection already took off
 * it; over this stream, TLS reads them first. A plain stream that is no socket goes as it is.
 */
function plainSide(stream: Duplex, early: Buffer[]): Duplex {
  if (!(stream instanceof Socket)) {
    for (const chunk of early) stream.unshift(chunk);
    return stream;
  }
  const side = new Duplex({
    read: () => stream.resume(),
    write: (chunk: Buffer, _encoding, callback) => stream.write(chunk, callback),
    final: (callback) => {
      stream.end();
      callback();
    },
    destroy: (err, callback) => {
      stream.destroy(err ?? undefined);
      callback(err);
    },
  });
  for (const chunk of early) side.push(chunk);
  let leftover: Buffer | null;
  while ((leftover = stream.read() as Buffer | null) !== null) side.push(leftover);
  stream.on('data', (chunk: Buffer) => {
    if (!side.push(chunk)) stream.pause();
  });
  stream.on('end', () => side.push(null));
  stream.on('close', () => side.destroy());
  stream.resume();
  return side;
}
