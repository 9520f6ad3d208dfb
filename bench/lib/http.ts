import { Agent, IncomingHttpHeaders, request } from 'node:http';

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body, unless the request asked to count it only. */
  body: Buffer;
  /** Bytes of body received (also when the body was not kept). */
  bodyBytes: number;
}

export interface RequestOptions {
  body?: Buffer | string;
  headers?: Record<string, string>;
  /** Count the body's bytes without keeping them: bulk reads need the count, not a copy. */
  discardBody?: boolean;
}

/**
 * A keep-alive HTTP/1.1 client over `node:http` for one loopback origin. The bench's own
 * requests (setup, long-polls, bulk reads and writes) go through it; load at high
 * concurrency goes through autocannon.
 */
export class HttpClient {
  private readonly agent: Agent;

  constructor(
    readonly host: string,
    readonly port: number,
    maxSockets = 64,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  get origin(): string {
    return `http://${this.host}:${this.port}`;
  }

  send(method: string, path: string, options: RequestOptions = {}): Promise<HttpResponse> {
    const body = typeof options.body === 'string' ? Buffer.from(options.body) : options.body;
    const headers: Record<string, string> = { ...options.headers };
    if (body) headers['content-length'] = String(body.length);
    return new Promise((resolve, reject) => {
      const req = request({ host: this.host, port: this.port, method, path, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        let bodyBytes = 0;
        res.on('data', (chunk: Buffer) => {
          bodyBytes += chunk.length;
          if (!options.discardBody) chunks.push(chunk);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), bodyBytes }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  /** A JSON request that must answer `expectedStatus`; resolves with the parsed answer. */
  async json<T>(method: string, path: string, payload?: unknown, expectedStatus = 200): Promise<T> {
    const res = await this.send(method, path, {
      body: payload === undefined ? undefined : JSON.stringify(payload),
      headers: payload === undefined ? {} : { 'content-type': 'application/json' },
    });
    if (res.status !== expectedStatus) {
      throw new Error(`${method} ${path} answered ${res.status}, expected ${expectedStatus}: ${res.body.toString('utf8').slice(0, 500)}`);
    }
    return JSON.parse(res.body.toString('utf8')) as T;
  }

  close(): void {
    this.agent.destroy();
  }
}
