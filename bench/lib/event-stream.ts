import { ClientRequest, IncomingMessage, request } from 'node:http';
import { HttpClient } from './http';

/**
 * A Server-Sent Events stream read by the bench: counts the messages of each event type as
 * they arrive and wakes whoever waits for the next one of a type. Its own connection, outside
 * the client's keep-alive pool, since it stays open.
 */
export class EventStreamReader {
  private readonly counts = new Map<string, number>();
  private readonly waiters = new Map<string, (() => void)[]>();
  private text = '';

  private constructor(
    private readonly req: ClientRequest,
    response: IncomingMessage,
  ) {
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => this.take(chunk));
  }

  static open(client: HttpClient, path: string): Promise<EventStreamReader> {
    return new Promise((resolve, reject) => {
      const req = request({ host: client.host, port: client.port, path, headers: { accept: 'text/event-stream' } }, (response) => {
        if (response.statusCode !== 200) reject(new Error(`${path} answered ${response.statusCode}`));
        else resolve(new EventStreamReader(req, response));
      });
      req.on('error', reject);
      req.end();
    });
  }

  /** Messages of this event type received so far. */
  count(type: string): number {
    return this.counts.get(type) ?? 0;
  }

  /** Resolves when the next message of this type arrives. */
  next(type: string): Promise<void> {
    return new Promise((resolve) => {
      const waiting = this.waiters.get(type) ?? [];
      waiting.push(resolve);
      this.waiters.set(type, waiting);
    });
  }

  close(): void {
    this.req.destroy();
  }

  private take(chunk: string): void {
    this.text += chunk;
    let end: number;
    while ((end = this.text.indexOf('\n\n')) >= 0) {
      const message = this.text.slice(0, end);
      this.text = this.text.slice(end + 2);
      const type = /^event: (.*)$/m.exec(message)?.[1];
      if (type === undefined) continue;
      this.counts.set(type, this.count(type) + 1);
      for (const wake of this.waiters.get(type)?.splice(0) ?? []) wake();
    }
  }
}
