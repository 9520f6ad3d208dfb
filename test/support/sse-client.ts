import { EventEmitter, once } from 'node:events';
import { IncomingMessage, OutgoingHttpHeaders, get } from 'node:http';

/** One dispatched Server-Sent Events message. */
export interface SseMessage {
  id: string | null;
  event: string;
  data: string;
  /** `data` parsed as JSON. */
  json: Record<string, unknown>;
}

/**
 * A minimal EventSource over `http.get`, for tests: parses the stream as it arrives (supertest
 * would buffer the whole body, and an event stream does not end), records messages and
 * comments, and lets a test await them or stop reading to play a slow consumer.
 */
export class SseClient {
  readonly messages: SseMessage[] = [];
  readonly comments: string[] = [];
  ended = false;

  private readonly emitter = new EventEmitter();
  private buffered = '';
  private pending: { id: string | null; event: string; data: string[] } = { id: null, event: 'message', data: [] };

  private constructor(readonly response: IncomingMessage) {
    response.setEncoding('utf8');
    response.on('data', (text: string) => this.parse(text));
    response.on('end', () => this.finish());
    response.on('close', () => this.finish());
    // The server may cut a stream it ends while this client is not reading.
    response.on('error', () => this.finish());
  }

  /** Opens the stream; resolves once the response headers arrived, whatever the status. */
  static async open(port: number, path: string, headers: OutgoingHttpHeaders = {}, host = '127.0.0.1'): Promise<SseClient> {
    const request = get({ host, port, path, headers: { accept: 'text/event-stream', ...headers } });
    const [response] = (await once(request, 'response')) as [IncomingMessage];
    return new SseClient(response);
  }

  get status(): number {
    return this.response.statusCode ?? 0;
  }

  /** Messages of one event type (or all but `gap`), parsed. */
  events(type?: string): Record<string, unknown>[] {
    return this.messages.filter((m) => (type ? m.event === type : m.event !== 'gap')).map((m) => m.json);
  }

  /** Resolves with the first message (from the start of the stream) that satisfies `predicate`. */
  async waitFor(predicate: (message: SseMessage) => boolean): Promise<SseMessage> {
    for (;;) {
      const found = this.messages.find(predicate);
      if (found) return found;
      await this.nextChange();
    }
  }

  /** Resolves once `count` messages (gaps included) have arrived. */
  async waitForCount(count: number): Promise<SseMessage[]> {
    while (this.messages.length < count) await this.nextChange();
    return this.messages;
  }

  async waitForComment(comment: string): Promise<void> {
    while (!this.comments.includes(comment)) await this.nextChange();
  }

  async waitForEnd(): Promise<void> {
    while (!this.ended) await this.nextChange();
  }

  /** Stops reading: the server sees a reader that does not keep up. */
  pause(): void {
    this.response.pause();
  }

  resume(): void {
    this.response.resume();
  }

  close(): void {
    this.response.destroy();
  }

  private async nextChange(): Promise<void> {
    if (this.ended) throw new Error(`the stream ended; messages so far: ${this.messages.map((m) => m.event).join(', ')}`);
    await once(this.emitter, 'change');
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.emitter.emit('change');
  }

  private parse(text: string): void {
    this.buffered += text;
    const lines = this.buffered.split(/\r?\n/);
    this.buffered = lines.pop() ?? '';
    for (const line of lines) this.parseLine(line);
    this.emitter.emit('change');
  }

  private parseLine(line: string): void {
    if (line === '') {
      if (this.pending.data.length > 0) {
        const data = this.pending.data.join('\n');
        this.messages.push({ id: this.pending.id, event: this.pending.event, data, json: JSON.parse(data) as Record<string, unknown> });
      }
      this.pending = { id: null, event: 'message', data: [] };
      return;
    }
    if (line.startsWith(':')) {
      this.comments.push(line.slice(1).trim());
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') this.pending.id = value;
    else if (field === 'event') this.pending.event = value;
    else if (field === 'data') this.pending.data.push(value);
  }
}
