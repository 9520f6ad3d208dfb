import { RemoteInfo, Socket, createSocket } from 'node:dgram';
import { once } from 'node:events';
import { isIP } from 'node:net';
import { Datagram, DatagramLog } from './datagram-log';
import { Destinations } from './destination';
import { DatagramRules } from './rules/datagram-rules';
import { SocketError, errnoOf, fromSystemError } from './socket-error';
import { SocketBase, SocketInit } from './socket-base';
import { CloseInfo, Endpoint, ReceiveMode, SocketResource, toEndpoint } from './socket-types';
import { Waiters } from './waiters';

export const UdpSocketState = {
  BOUND: 'bound',
  CLOSED: 'closed',
} as const;
export type UdpSocketState = (typeof UdpSocketState)[keyof typeof UdpSocketState];

export const UDP_TYPES = ['udp4', 'udp6'] as const;
export type UdpType = (typeof UDP_TYPES)[number];

/**
 * The largest payload one datagram can carry: 65,535 (the 16-bit length fields) less the 8-byte
 * UDP header, and for IPv4 less the 20-byte IP header too (IPv6's payload length excludes its
 * header). Larger sends are refused up front rather than truncated or left to the kernel.
 */
export const MAX_DATAGRAM_BYTES: Readonly<Record<UdpType, number>> = { udp4: 65_507, udp6: 65_527 };

export interface MulticastOptions {
  /** Groups joined at creation, on `interface` (or the interface the kernel picks). */
  groups: string[];
  /** Local interface address for joins and outgoing multicast; null = the kernel's choice. */
  interface: string | null;
  ttl: number;
  loopback: boolean;
}

export interface UdpDestination {
  host: string;
  port: number;
}

export interface UdpSocketOptions {
  type: UdpType;
  host: string;
  port: number;
  /** What the socket does with received datagrams; `echo` answers each sender with its own datagram. */
  mode: ReceiveMode;
  reuseAddr: boolean;
  ipv6Only: boolean;
  broadcast: boolean;
  /** Unicast TTL (IPv4) or hop limit (IPv6). */
  ttl: number;
  /** SO_RCVBUF / SO_SNDBUF to ask for; null keeps the system default. */
  recvBufferSize: number | null;
  sendBufferSize: number | null;
  multicast: MulticastOptions | null;
  /** Default peer (connected UDP): sends may omit the destination, and only its datagrams arrive. */
  connectTo: UdpDestination | null;
  /** Caps of the datagram log (buffer mode). */
  maxDatagrams: number;
  maxBufferedBytes: number;
}

export interface UdpSocketInit extends SocketInit<UdpSocketOptions> {
  /** Resolves and vets the default peer and every send's destination; the vetted address is the one dialled. */
  destinations: Destinations;
}

/** A socket error that did not close the socket (an ICMP error reported on a later receive, a failed echo). */
export interface UdpErrorInfo {
  errno: string;
  message: string;
  at: Date;
}

export interface DatagramReadRequest {
  from?: number;
  max: number;
  /** With `waitMs`: datagrams from `from` worth answering for (at most `max`). */
  minDatagrams: number;
  maxBytes: number;
  waitMs: number;
  signal?: AbortSignal;
}

export interface DatagramReadResult {
  from: number;
  nextSeq: number;
  datagrams: Datagram[];
  oldestSeq: number;
  endSeq: number;
  dropped: number;
}

export interface DatagramSendResult {
  bytesSent: number;
  destination: Endpoint;
}

/** Everything that changes over a UDP socket's life; only `transition` changes `phase`. */
interface UdpState {
  phase: UdpSocketState;
  local: Endpoint | null;
  /** The default peer, once connected to it. */
  remote: Endpoint | null;
  datagramsIn: number;
  datagramsOut: number;
  bytesIn: number;
  bytesOut: number;
  lastActivityAt: Date;
  lastError: UdpErrorInfo | null;
  /** The sender of the last datagram; held datagrams and events share it, so it is never changed, only replaced. */
  lastSender: Endpoint | null;
  closed: CloseInfo | null;
}

/** A bound UDP socket over `dgram.Socket`, optionally connected to a default peer. */
export class UdpSocket extends SocketBase<UdpSocketOptions> implements SocketResource {
  readonly kind = 'udp-socket';

  private readonly socket: Socket;
  private readonly log: DatagramLog;
  private readonly readers = new Waiters();
  private readonly destinations: Destinations;
  private readonly closedPromise: Promise<void>;
  /** Rejecters of sends in flight: dgram drops a send without calling back when the socket closes first. */
  private readonly pendingSends = new Set<(err: SocketError) => void>();
  /** Its reply rules; null while it has none. */
  private replyRules: DatagramRules | null = null;
  private readonly current: UdpState = {
    phase: UdpSocketState.BOUND,
    local: null,
    remote: null,
    datagramsIn: 0,
    datagramsOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    lastActivityAt: new Date(),
    lastError: null,
    lastSender: null,
    closed: null,
  };

  private constructor(init: UdpSocketInit) {
    super(init);
    this.destinations = init.destinations;
    this.log = new DatagramLog({ maxDatagrams: init.options.maxDatagrams, maxBytes: init.options.maxBufferedBytes });
    const { type, reuseAddr, ipv6Only, recvBufferSize, sendBufferSize } = init.options;
    this.socket = createSocket({
      type,
      reuseAddr,
      ipv6Only: type === 'udp6' && ipv6Only,
      recvBufferSize: recvBufferSize ?? undefined,
      sendBufferSize: sendBufferSize ?? undefined,
    });
    // Attached before anything can fail: an unhandled 'error' on a dgram socket would end the process.
    this.socket.on('error', (err) => this.onError(err));
    this.socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    this.closedPromise = new Promise((resolve) => this.socket.once('close', () => resolve()));
  }

  /**
   * Binds, applies the socket options and connects to the default peer; resolves with the
   * socket in state `bound`, or closes it and rejects with the errno that stopped it.
   */
  static async open(init: UdpSocketInit): Promise<UdpSocket> {
    const { type, host, multicast, connectTo } = init.options;
    assertFamily(type, host, 'host', 'ADDRESS_NOT_AVAILABLE');
    if (multicast?.interface) assertFamily(type, multicast.interface, 'multicast.interface', 'ADDRESS_NOT_AVAILABLE');
    for (const group of multicast?.groups ?? []) assertFamily(type, group, 'multicast.groups', 'ADDRESS_NOT_AVAILABLE');
    const socket = new UdpSocket(init);
    try {
      await socket.bind();
      socket.applyOptions();
      if (connectTo) await socket.connect(connectTo);
    } catch (err) {
      // Never announced, so closed without a udp.closed event.
      socket.transition(UdpSocketState.CLOSED, false);
      await socket.closedPromise;
      throw err;
    }
    const { local, remote } = socket.current;
    socket.events.publish(socket, 'udp.bound', {
      address: local?.address ?? null,
      port: local?.port ?? null,
      remoteAddress: remote?.address ?? null,
      remotePort: remote?.port ?? null,
    });
    return socket;
  }

  get state(): UdpSocketState {
    return this.current.phase;
  }

  get closed(): CloseInfo | null {
    return this.current.closed;
  }

  get local(): Endpoint | null {
    return this.current.local;
  }

  get remote(): Endpoint | null {
    return this.current.remote;
  }

  get datagramsIn(): number {
    return this.current.datagramsIn;
  }

  get datagramsOut(): number {
    return this.current.datagramsOut;
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

  /** The last error that did not close the socket, if any. */
  get lastError(): UdpErrorInfo | null {
    return this.current.lastError;
  }

  get dropped(): number {
    return this.log.dropped;
  }

  get buffer(): { oldestSeq: number; endSeq: number; heldDatagrams: number; heldBytes: number } {
    return { oldestSeq: this.log.oldestSeq, endSeq: this.log.endSeq, heldDatagrams: this.log.heldDatagrams, heldBytes: this.log.heldBytes };
  }

  /** SO_RCVBUF and SO_SNDBUF as the kernel reports them (Linux doubles what was asked for). */
  get bufferSizes(): { recvBufferSize: number | null; sendBufferSize: number | null } {
    if (this.current.phase === UdpSocketState.CLOSED) return { recvBufferSize: null, sendBufferSize: null };
    return { recvBufferSize: this.socket.getRecvBufferSize(), sendBufferSize: this.socket.getSendBufferSize() };
  }

  get rules(): DatagramRules | null {
    return this.replyRules;
  }

  /** Runs `rules` on every datagram from now on; null stops them. */
  setRules(rules: DatagramRules | null): void {
    this.replyRules?.dispose();
    this.replyRules = this.current.phase === UdpSocketState.CLOSED ? null : rules;
  }

  /** Long-polls currently waiting on this socket. */
  get waitingReads(): number {
    return this.readers.size;
  }

  /**
   * Sends one datagram and answers once dgram's send callback reported it handed to the kernel.
   * Without a destination it goes to the default peer; host names are resolved once, in the
   * socket's family, and the resolved address is the one dialled.
   */
  async send(bytes: Buffer, destination: Partial<UdpDestination>): Promise<DatagramSendResult> {
    this.assertOpen();
    const limit = MAX_DATAGRAM_BYTES[this.options.type];
    if (bytes.length > limit) {
      throw new SocketError('DATAGRAM_TOO_LARGE', `a ${this.options.type} datagram carries at most ${limit} bytes; this one has ${bytes.length}`, {
        limit,
        size: bytes.length,
      });
    }
    const target = await this.resolveDestination(destination);
    this.assertOpen();
    try {
      await new Promise<void>((resolve, reject) => {
        this.pendingSends.add(reject);
        const done = (err: Error | null): void => {
          this.pendingSends.delete(reject);
          if (err) reject(err);
          else resolve();
        };
        if (this.current.remote) this.socket.send(bytes, done);
        else this.socket.send(bytes, target.port, target.address, done);
      });
    } catch (err) {
      if (err instanceof SocketError) throw err;
      if (this.current.phase === UdpSocketState.CLOSED) throw this.closedError();
      throw fromSystemError(err, `send to ${target.address}:${target.port}`);
    }
    this.current.datagramsOut++;
    this.current.bytesOut += bytes.length;
    this.current.lastActivityAt = new Date();
    return { bytesSent: bytes.length, destination: target };
  }

  /**
   * Reads held datagrams from `from` without consuming them; waits up to `waitMs` until
   * `minDatagrams` of them are held, or sooner when the log drops one at its caps (waiting for
   * more would only lose more) or the socket closes.
   */
  async read(request: DatagramReadRequest): Promise<DatagramReadResult> {
    const from = request.from ?? this.log.oldestSeq;
    this.assertReadableSeq(from);
    const enough = Math.max(1, Math.min(request.minDatagrams, request.max));
    const droppedBefore = this.log.dropped;
    const ready = (): boolean =>
      this.current.phase === UdpSocketState.CLOSED ||
      from < this.log.oldestSeq ||
      this.log.endSeq - from >= enough ||
      (this.log.endSeq > from && this.log.dropped > droppedBefore);
    await this.readers.waitFor(ready, request.waitMs, request.signal);
    // A concurrent release may have freed datagrams while this read waited.
    this.assertReadableSeq(from);
    const datagrams = this.log.read(from, request.max, request.maxBytes);
    return {
      from,
      nextSeq: from + datagrams.length,
      datagrams,
      oldestSeq: this.log.oldestSeq,
      endSeq: this.log.endSeq,
      dropped: this.log.dropped,
    };
  }

  /** Frees held datagrams below `seq`, making room under the caps. */
  releaseUpTo(seq: number): void {
    if (seq > this.log.endSeq) {
      throw new SocketError('OFFSET_OUT_OF_RANGE', `upTo ${seq} is past the last received datagram (endSeq ${this.log.endSeq})`, {
        endSeq: this.log.endSeq,
      });
    }
    this.log.releaseUpTo(seq);
  }

  /** Closes the socket; resolves once dgram reports it closed. Idempotent. */
  close(): Promise<void> {
    if (this.current.phase !== UdpSocketState.CLOSED) this.transition(UdpSocketState.CLOSED, true);
    return this.closedPromise;
  }

  /** The one place the phase changes; closing is final and settles what is in flight. `announce`: publish `udp.closed`. */
  private transition(to: typeof UdpSocketState.CLOSED, announce: boolean): void {
    const current = this.current;
    current.phase = to;
    current.closed = { reason: 'local', errno: null, message: null, at: new Date() };
    this.socket.close();
    for (const reject of this.pendingSends) reject(this.closedError());
    this.pendingSends.clear();
    this.replyRules?.dispose();
    const { bytesIn, bytesOut, datagramsIn, datagramsOut } = current;
    if (announce) this.events.publish(this, 'udp.closed', { reason: 'local', errno: null, bytesIn, bytesOut, datagramsIn, datagramsOut });
    this.readers.releaseAll();
  }

  private async bind(): Promise<void> {
    const { host, port } = this.options;
    this.socket.bind({ address: host, port, exclusive: true });
    // `listening` and `error` both come in a later tick, so waiting after `bind` misses neither.
    try {
      await once(this.socket, 'listening');
    } catch (err) {
      throw fromSystemError(err, `bind ${host}:${port}`);
    }
    const address = this.socket.address();
    this.current.local = toEndpoint(address.address, address.port, address.family);
  }

  /** Options dgram only takes on a bound socket; each throws synchronously on a bad value. */
  private applyOptions(): void {
    const { broadcast, ttl, multicast } = this.options;
    try {
      this.socket.setBroadcast(broadcast);
      this.socket.setTTL(ttl);
      if (multicast) {
        this.socket.setMulticastTTL(multicast.ttl);
        this.socket.setMulticastLoopback(multicast.loopback);
        if (multicast.interface) this.socket.setMulticastInterface(multicast.interface);
        for (const group of multicast.groups) this.socket.addMembership(group, multicast.interface ?? undefined);
      }
    } catch (err) {
      throw fromSystemError(err, 'set socket options');
    }
  }

  private async connect(peer: UdpDestination): Promise<void> {
    const address = await this.resolveAddress(peer.host, peer.port, 'connectTo.host');
    await new Promise<void>((resolve, reject) => {
      this.socket.connect(peer.port, address, (err?: Error) => (err ? reject(fromSystemError(err, `connect to ${peer.host}:${peer.port}`)) : resolve()));
    });
    const remote = this.socket.remoteAddress();
    this.current.remote = toEndpoint(remote.address, remote.port, remote.family);
  }

  /** The vetted address to send to, or the default peer when the destination is omitted. */
  private async resolveDestination(destination: Partial<UdpDestination>): Promise<Endpoint> {
    const { host, port } = destination;
    if ((host === undefined) !== (port === undefined)) {
      throw new SocketError('INVALID_DESTINATION', 'give both host and port, or neither to send to the default peer', { field: host === undefined ? 'host' : 'port' });
    }
    const { remote } = this.current;
    if (host === undefined || port === undefined) {
      if (remote) return remote;
      throw new SocketError('INVALID_DESTINATION', `socket ${this.id} has no default peer: give host and port`, { field: 'host' });
    }
    const address = await this.resolveAddress(host, port, 'host');
    if (remote && (address !== remote.address || port !== remote.port)) {
      throw new SocketError(
        'INVALID_DESTINATION',
        `socket ${this.id} is connected to ${remote.address}:${remote.port} and sends only there; omit host and port`,
        { field: 'host' },
      );
    }
    return { address, port, family: isIP(address) === 6 ? 'IPv6' : 'IPv4' };
  }

  /**
   * An IP literal of the socket's family as is; a host name resolved once, to its first address
   * of that family. Every address is vetted by the network policy first.
   */
  private resolveAddress(host: string, port: number, field: string): Promise<string> {
    assertFamily(this.options.type, host, field, 'INVALID_DESTINATION');
    return this.destinations.forDatagram(host, port, this.options.type === 'udp6' ? 6 : 4);
  }

  /**
   * Runs once per received datagram, so it allocates little: one Date serves as the receive
   * time, the last activity and the event's time, and a sender that keeps writing is one
   * shared `Endpoint` for all its held datagrams and events (the event history keeps each
   * event's data for a while, and `rinfo.address` is a new string every time).
   */
  private onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    const receivedAt = new Date();
    const sender = this.senderOf(rinfo);
    const current = this.current;
    current.datagramsIn++;
    current.bytesIn += msg.length;
    current.lastActivityAt = receivedAt;
    const match = this.replyRules?.decide(msg) ?? null;
    const mode = this.replyRules?.keeps(match) === false ? 'discard' : this.options.mode;
    let seq: number;
    switch (mode) {
      case 'buffer': {
        const outcome = this.log.append(msg, sender, receivedAt);
        if (!outcome.kept) {
          const data = { remoteAddress: sender.address, remotePort: sender.port, size: msg.length, cause: outcome.cause, dropped: this.log.dropped };
          this.events.publish(this, 'udp.dropped', data, undefined, receivedAt);
          this.readers.notify();
          return;
        }
        seq = outcome.datagram.seq;
        break;
      }
      case 'echo':
        seq = this.log.skip();
        this.echo(msg, rinfo);
        break;
      case 'discard':
        seq = this.log.skip();
        break;
    }
    this.events.publish(this, 'udp.datagram', { seq, remoteAddress: sender.address, remotePort: sender.port, size: msg.length }, msg, receivedAt);
    this.replyRules?.settle(match, msg, sender, seq);
    this.readers.notify();
  }

  /** The sender as an `Endpoint`, the same object as the previous datagram's when it came from the same address and port. */
  private senderOf(rinfo: RemoteInfo): Endpoint {
    const last = this.current.lastSender;
    if (last !== null && last.port === rinfo.port && last.address === rinfo.address) return last;
    const sender: Endpoint = { address: rinfo.address, port: rinfo.port, family: rinfo.family === 'IPv6' ? 'IPv6' : 'IPv4' };
    this.current.lastSender = sender;
    return sender;
  }

  /** Sends the datagram back to its sender, as the tutorial's udp_server.py does. */
  private echo(msg: Buffer, sender: RemoteInfo): void {
    const done = (err: Error | null): void => {
      if (err) {
        this.onError(err);
        return;
      }
      this.current.datagramsOut++;
      this.current.bytesOut += msg.length;
    };
    // A connected socket only hears its peer, and dgram refuses an explicit address on it.
    if (this.current.remote) this.socket.send(msg, done);
    else this.socket.send(msg, sender.port, sender.address, done);
  }

  /**
   * Errors after binding do not close a UDP socket: they are ICMP reports (a connected peer's
   * port is closed) surfacing on a later receive, or a failed echo. They are kept for the
   * representation and the socket carries on.
   */
  private onError(err: Error): void {
    this.current.lastError = { errno: errnoOf(err), message: err.message, at: new Date() };
  }

  private assertOpen(): void {
    if (this.current.phase === UdpSocketState.CLOSED) throw this.closedError();
  }

  private closedError(): SocketError {
    return new SocketError('SOCKET_CLOSED', `UDP socket ${this.id} is closed: it can no longer send`, { state: UdpSocketState.CLOSED });
  }

  private assertReadableSeq(from: number): void {
    if (from < this.log.oldestSeq) {
      throw new SocketError('OFFSET_RELEASED', `datagrams before seq ${this.log.oldestSeq} were released; ${from} is no longer held`, {
        oldestSeq: this.log.oldestSeq,
      });
    }
    if (from > this.log.endSeq) {
      throw new SocketError('OFFSET_OUT_OF_RANGE', `seq ${from} is past the last received datagram (endSeq ${this.log.endSeq})`, {
        endSeq: this.log.endSeq,
      });
    }
  }
}

/** Refuses an IP literal of the other family: a udp4 socket cannot bind, join or reach an IPv6 address, nor a udp6 one an IPv4 address. */
function assertFamily(type: UdpType, address: string, field: string, code: 'ADDRESS_NOT_AVAILABLE' | 'INVALID_DESTINATION'): void {
  const family = isIP(address);
  const wanted = type === 'udp6' ? 6 : 4;
  if (family === 0 || family === wanted) return;
  const mappable = type === 'udp6' && (field === 'host' || field === 'connectTo.host');
  const hint = mappable ? ' (a dual-stack udp6 socket reaches IPv4 as ::ffff:a.b.c.d)' : '';
  throw new SocketError(code, `${field} ${address} is an IPv${family} address; a ${type} socket needs IPv${wanted}${hint}`, { field });
}
