import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { Socket as DgramSocket, createSocket } from 'node:dgram';
import { once } from 'node:events';
import { Socket, connect } from 'node:net';
import { join } from 'node:path';
import { nextOutputOrExit } from './child-output';
import { firstEvent } from './first-event';

const FIXTURES = join(__dirname, '..', 'fixtures');

/** A python3 script from test/fixtures with its output collected. */
export class PythonPeer {
  readonly process: ChildProcessWithoutNullStreams;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(script: string, args: (string | number)[]) {
    this.process = spawn('python3', ['-u', join(FIXTURES, script), ...args.map(String)]);
    this.process.stdout.setEncoding('utf8').on('data', (text: string) => (this.stdout += text));
    this.process.stderr.setEncoding('utf8').on('data', (text: string) => (this.stderr += text));
    this.exited = once(this.process, 'exit').then(([code]) => code as number | null);
  }

  /** Resolves with the first match of `pattern` in stdout, as soon as it is printed. */
  async waitForOutput(pattern: RegExp): Promise<RegExpMatchArray> {
    for (;;) {
      const match = this.stdout.match(pattern);
      if (match) return match;
      const exited = this.process.exitCode !== null;
      if (exited) throw new Error(`${this.process.spawnargs.join(' ')} exited without printing ${pattern}: ${this.stdout}${this.stderr}`);
      await nextOutputOrExit(this.process);
    }
  }

  kill(): void {
    if (this.process.exitCode === null) this.process.kill();
  }
}

/** A Node TCP client that records everything it receives. */
export class TcpPeer {
  received = Buffer.alloc(0);
  ended = false;
  closed = false;
  errorCode: string | null = null;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      socket.emit('received');
    });
    socket.on('end', () => (this.ended = true));
    socket.on('close', () => (this.closed = true));
    socket.on('error', (err: NodeJS.ErrnoException) => (this.errorCode = err.code ?? 'UNKNOWN'));
  }

  static async connect(port: number, host = '127.0.0.1', options: { allowHalfOpen?: boolean } = {}): Promise<TcpPeer> {
    const socket = connect({ port, host, allowHalfOpen: options.allowHalfOpen ?? false });
    const peer = new TcpPeer(socket);
    await once(socket, 'connect');
    return peer;
  }

  /** Resolves once at least `byteCount` bytes have arrived in total. */
  async receive(byteCount: number): Promise<Buffer> {
    while (this.received.length < byteCount) {
      if (this.closed) throw new Error(`closed after ${this.received.length} of ${byteCount} bytes`);
      await firstEvent([this.socket, 'received'], [this.socket, 'close']);
    }
    return this.received;
  }

  async write(data: string | Buffer): Promise<void> {
    await new Promise<void>((resolve, reject) => this.socket.write(data, (err) => (err ? reject(err) : resolve())));
  }

  async whenClosed(): Promise<void> {
    if (!this.closed) await once(this.socket, 'close');
  }
}

export interface ReceivedDatagram {
  data: Buffer;
  address: string;
  port: number;
}

/** A Node UDP socket that records every datagram it receives. */
export class UdpPeer {
  readonly received: ReceivedDatagram[] = [];

  private constructor(readonly socket: DgramSocket) {
    socket.on('message', (data, rinfo) => {
      this.received.push({ data, address: rinfo.address, port: rinfo.port });
      socket.emit('received');
    });
  }

  static async bind(host = '127.0.0.1'): Promise<UdpPeer> {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const peer = new UdpPeer(socket);
    socket.bind(0, host);
    await once(socket, 'listening');
    return peer;
  }

  get port(): number {
    return this.socket.address().port;
  }

  async send(data: string | Buffer, port: number, host = '127.0.0.1'): Promise<void> {
    await new Promise<void>((resolve, reject) => this.socket.send(data, port, host, (err) => (err ? reject(err) : resolve())));
  }

  /** Resolves once at least `count` datagrams have arrived in total. */
  async receive(count: number): Promise<ReceivedDatagram[]> {
    while (this.received.length < count) await once(this.socket, 'received');
    return this.received;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}

/** Polls `check` until it returns without throwing; for state the API exposes only by reading. */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}
