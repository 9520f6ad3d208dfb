import { once } from 'node:events';
import { IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';

/** An upgrade the service refused: its HTTP status, headers and problem+json body. */
export class UpgradeRefused extends Error {
  constructor(
    readonly status: number,
    readonly headers: IncomingMessage['headers'],
    readonly body: { code?: string; detail?: string } & Record<string, unknown>,
  ) {
    super(`upgrade refused with ${status} ${body.code ?? ''}`);
  }
}

export interface AttachOptions {
  protocol?: 'sockplane.raw.v1' | 'sockplane.channel.v1' | string;
  headers?: Record<string, string>;
}

const inboxes = new WeakMap<WebSocket, WsInbox>();

/** The inbox `openWs` gave a WebSocket: it holds every message from the first (which may come with the handshake's answer). */
export function inboxOf(ws: WebSocket): WsInbox {
  const inbox = inboxes.get(ws);
  if (inbox === undefined) throw new Error('not a WebSocket from openWs');
  return inbox;
}

/** Opens a WebSocket to the service at `path`; rejects with `UpgradeRefused` when it answers HTTP instead. */
export async function openWs(port: number, path: string, options: AttachOptions = {}, host = '127.0.0.1'): Promise<WebSocket> {
  const url = `ws://${host.includes(':') ? `[${host}]` : host}:${port}${path}`;
  const ws = new WebSocket(url, options.protocol === undefined ? [] : [options.protocol], { headers: options.headers, perMessageDeflate: false });
  inboxes.set(ws, new WsInbox(ws));
  const refused = new Promise<never>((_, reject) => {
    ws.once('unexpected-response', (_req, res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        reject(new UpgradeRefused(res.statusCode ?? 0, res.headers, text === '' ? {} : (JSON.parse(text) as UpgradeRefused['body'])));
        ws.terminate();
      });
    });
    ws.on('error', reject);
  });
  await Promise.race([once(ws, 'open'), refused]);
  return ws;
}

/** What refusal an upgrade gets (fails the test if it is accepted). */
export async function refusalOf(port: number, path: string, options: AttachOptions = {}): Promise<UpgradeRefused> {
  try {
    const ws = await openWs(port, path, options);
    ws.close();
  } catch (err) {
    if (err instanceof UpgradeRefused) return err;
    throw err;
  }
  throw new Error(`the upgrade of ${path} was accepted`);
}

/** A channel message split into its channel and body. */
export interface ChannelMessage {
  channel: number;
  body: Buffer;
}

/** Collects the messages of a WebSocket and waits for those a test expects. */
export class WsInbox {
  readonly messages: Buffer[] = [];
  closed: { code: number; reason: string } | null = null;
  error: Error | null = null;
  private sink: ((message: Buffer) => void) | null = null;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      if (this.sink) return this.sink(data);
      this.messages.push(data);
      ws.emit('stored');
    });
    ws.on('error', (err) => (this.error = err));
    ws.on('close', (code: number, reason: Buffer) => {
      this.closed = { code, reason: reason.toString() };
      ws.emit('stored');
    });
  }

  /** Waits until `ready` holds over the messages so far. */
  async until(ready: (messages: Buffer[]) => boolean): Promise<Buffer[]> {
    while (!ready(this.messages)) {
      if (this.closed) throw new Error(`closed (${this.closed.code} ${this.closed.reason}) after ${this.messages.length} messages`);
      await once(this.ws, 'stored');
    }
    return this.messages;
  }

  async whenClosed(): Promise<{ code: number; reason: string }> {
    while (this.closed === null) await once(this.ws, 'stored');
    return this.closed;
  }

  /** Hands every message so far and from now on to `sink`, keeping none (for transfers too large to hold). */
  stream(sink: (message: Buffer) => void): void {
    for (const message of this.messages.splice(0)) sink(message);
    this.sink = sink;
  }

  channel(channel: number): Buffer[] {
    return this.messages.filter((m) => m[0] === channel).map((m) => m.subarray(1));
  }

  notices(): Record<string, unknown>[] {
    return this.channel(2).map((body) => JSON.parse(body.toString('utf8')) as Record<string, unknown>);
  }
}

/** Closes a WebSocket and waits for the close handshake (or the socket going away). */
export async function closeWs(ws: WebSocket, code = 1000): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return;
  const closed = once(ws, 'close');
  if (ws.readyState === WebSocket.OPEN) ws.close(code);
  await closed;
}

/** The destination header of a datagram to send through a UDP attachment (none: the default peer), as docs/attach.md lays it out. */
export function sendHeader(destination: { host: string; port: number } | null): Buffer {
  const address = Buffer.from(destination?.host ?? '', 'latin1');
  const header = Buffer.alloc(3 + address.length);
  header.writeUInt16BE(destination?.port ?? 0, 0);
  header[2] = address.length;
  address.copy(header, 3);
  return header;
}
