import { ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { AddressInfo, createServer, connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { nextOutputOrExit } from '../support/child-output';
import { TcpPeer } from '../support/peers';

const ROOT = join(__dirname, '..', '..');

/** `node dist/main.js` as a container would run it, with its stdout collected. */
class ServiceProcess {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = '';
  stderr = '';

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, ['dist/main.js'], { cwd: ROOT, env: { ...process.env, ...env } });
    this.child.stdout.setEncoding('utf8').on('data', (text: string) => (this.stdout += text));
    this.child.stderr.setEncoding('utf8').on('data', (text: string) => (this.stderr += text));
  }

  get lines(): Record<string, unknown>[] {
    return this.stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  /** The port main logs once it listens. */
  async boundPort(): Promise<number> {
    for (;;) {
      const line = this.stdout.split('\n').find((l) => l.includes('"context":"Bootstrap"'));
      if (line) return (JSON.parse(line) as { port: number }).port;
      if (this.child.exitCode !== null) throw new Error(`exited before listening: ${this.stdout}${this.stderr}`);
      await nextOutputOrExit(this.child);
    }
  }
}

describe('node dist/main.js', () => {
  // What a failed test leaves open must not keep Jest waiting.
  const started: ServiceProcess[] = [];
  const peers: TcpPeer[] = [];
  const start = (env: Record<string, string>): ServiceProcess => {
    // No load shedding by event-loop delay, as in test-app.ts: on a busy machine the start-up
    // of the child alone can stall its loop past the threshold, and its first calls answer 503.
    const service = new ServiceProcess({ PORT: '0', HOST: '127.0.0.1', SOCKPLANE_SHED_EVENT_LOOP_DELAY_MS: '0', ...env });
    started.push(service);
    return service;
  };
  const connect = async (port: number, allowHalfOpen = false): Promise<TcpPeer> => {
    const peer = await TcpPeer.connect(port, '127.0.0.1', { allowHalfOpen });
    peers.push(peer);
    return peer;
  };

  beforeAll(async () => {
    await promisify(execFile)(join(ROOT, 'node_modules', '.bin', 'nest'), ['build'], { cwd: ROOT });
  }, 120_000);

  afterAll(() => {
    for (const service of started) if (service.child.exitCode === null) service.child.kill('SIGKILL');
    for (const peer of peers) peer.socket.destroy();
  });

  it('logs JSON lines only, and on SIGTERM closes every socket and exits 0', async () => {
    const service = start({ SOCKPLANE_LOG_LEVEL: 'info', SOCKPLANE_CLOSE_LINGER_MS: '500' });
    const api = `http://127.0.0.1:${await service.boundPort()}`;

    const created = await fetch(`${api}/v1/tcp/listeners`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'process-test-1' },
      body: JSON.stringify({ host: '127.0.0.1', port: 0 }),
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('x-request-id')).toBe('process-test-1');
    const listener = (await created.json()) as { id: string; local: { port: number } };
    const peer = await connect(listener.local.port);
    await peer.write('secret payload bytes');
    const accepted = await fetch(`${api}/v1/tcp/listeners/${listener.id}/connections?waitMs=5000`);
    const connection = ((await accepted.json()) as { items: { id: string }[] }).items[0];
    const sendPath = `/v1/tcp/connections/${connection.id}/send`;
    const send = (body: object): Promise<Response> => fetch(`${api}${sendPath}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await send({ data: 'hi', encoding: 'utf8' })).status).toBe(200);
    expect((await fetch(`${api}/v1/tcp/connections/${connection.id}/buffer?minBytes=20&waitMs=5000`)).status).toBe(200);
    expect((await send({ data: 'not hex', encoding: 'hex' })).status).toBe(400);

    const signalledAt = Date.now();
    service.child.kill('SIGTERM');
    const [code, signal] = (await once(service.child, 'exit')) as [number | null, string | null];
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(5000);
    await peer.whenClosed();

    expect(service.stderr).toBe('');
    const lines = service.lines;
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'info', requestId: 'process-test-1', req: expect.objectContaining({ method: 'POST', path: '/v1/tcp/listeners' }), res: { statusCode: 201 } }),
    );
    const socketLine = { socketId: connection.id, kind: 'tcp-connection', local: `127.0.0.1:${listener.local.port}`, remote: expect.stringMatching(/^127\.0\.0\.1:\d+$/) };
    expect(lines).toContainEqual(expect.objectContaining({ event: 'connection.accepted', ...socketLine }));
    expect(lines).toContainEqual(expect.objectContaining({ event: 'connection.closed', reason: 'local', ...socketLine }));
    expect(lines).toContainEqual(expect.objectContaining({ event: 'listener.closed', socketId: listener.id, local: `127.0.0.1:${listener.local.port}` }));
    expect(service.stdout).not.toContain('secret payload');
    // Data calls log their failures only, at info: a busy caller's sends do not flood the log.
    const dataLines = lines.filter((line) => (line.req as { path?: string } | undefined)?.path?.startsWith(`/v1/tcp/connections/${connection.id}/`));
    expect(dataLines).toEqual([expect.objectContaining({ level: 'info', req: expect.objectContaining({ method: 'POST', path: sendPath }), res: { statusCode: 400 } })]);
  });

  it('logs where it listens and where Swagger UI is at start-up, and nothing else at info', async () => {
    const service = start({ SOCKPLANE_LOG_LEVEL: 'info' });
    const port = await service.boundPort();
    service.child.kill('SIGTERM');
    await once(service.child, 'close');
    const url = `http://127.0.0.1:${port}`;
    expect(service.lines.filter((line) => line.context !== 'Shutdown').map((line) => ({ level: line.level, msg: line.msg }))).toEqual([
      { level: 'info', msg: `listening on ${url}` },
      { level: 'info', msg: `Swagger UI at ${url}/docs` },
    ]);
  });

  it('answers in one line, naming the address and PORT, and exits 1 when the port is taken', async () => {
    const taken = createServer();
    taken.listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const { port } = taken.address() as AddressInfo;
    try {
      const service = start({ PORT: String(port), SOCKPLANE_LOG_LEVEL: 'info' });
      const [code] = (await once(service.child, 'close')) as [number | null];
      expect({ code, stdout: service.stdout, stderr: service.stderr }).toEqual({
        code: 1,
        stdout: '',
        stderr: `sockplane: cannot listen on http://127.0.0.1:${port}: the address is in use; set PORT to another port (0 picks a free one)\n`,
      });
    } finally {
      taken.close();
    }
  });

  it('answers in one line and exits 1 when the configured TLS CA cannot be read', async () => {
    const missing = join(ROOT, 'no-such-dir', 'ca.pem');
    const service = start({ SOCKPLANE_TLS_CA_CERT_FILE: missing, SOCKPLANE_TLS_CA_KEY_FILE: missing, SOCKPLANE_LOG_LEVEL: 'info' });
    const [code] = (await once(service.child, 'close')) as [number | null];
    expect({ code, stdout: service.stdout, stderr: service.stderr }).toEqual({
      code: 1,
      stdout: '',
      stderr: expect.stringMatching(new RegExp(`^sockplane: the TLS instance CA cannot be used: cannot read the CA certificate file ${missing}: ENOENT[^\n]*\n$`)),
    });
  });

  it('logs a client that hangs up mid-request in one debug line, without a stack', async () => {
    const service = start({ SOCKPLANE_LOG_LEVEL: 'debug' });
    const port = await service.boundPort();
    const client = tcpConnect(port, '127.0.0.1');
    await once(client, 'connect');
    // `Expect: 100-continue`: the service answers it once it has taken the request, so the
    // hang-up below comes while it reads the body, as a client's that gives up mid-upload.
    client.write('POST /v1/tcp/listeners HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n');
    const [interim] = (await once(client, 'data')) as [Buffer];
    expect(interim.toString()).toMatch(/^HTTP\/1\.1 100 Continue/);
    await new Promise<void>((resolve) => client.write('{"port":', () => resolve()));
    client.destroy();
    while (!service.stdout.includes('"context":"ProblemFilter"')) {
      if (service.child.exitCode !== null) throw new Error(`exited: ${service.stdout}${service.stderr}`);
      await nextOutputOrExit(service.child);
    }
    service.child.kill('SIGTERM');
    await once(service.child, 'close');
    const lines = service.lines.filter((line) => line.context === 'ProblemFilter');
    expect(lines).toEqual([
      expect.objectContaining({ level: 'debug', msg: 'POST /v1/tcp/listeners: the client hung up before its request was read', requestId: expect.any(String) }),
    ]);
    expect(service.lines.filter((line) => line.level === 'error' || line.level === 'warn')).toEqual([]);
  });

  it('logs successful data calls at debug', async () => {
    const service = start({ SOCKPLANE_LOG_LEVEL: 'debug' });
    const api = `http://127.0.0.1:${await service.boundPort()}`;
    const created = await fetch(`${api}/v1/udp/sockets`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":"udp4"}' });
    const socket = (await created.json()) as { id: string; local: { port: number } };
    const sent = await fetch(`${api}/v1/udp/sockets/${socket.id}/send`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ host: '127.0.0.1', port: socket.local.port, data: 'to myself', encoding: 'utf8' }),
    });
    expect(sent.status).toBe(200);
    expect((await fetch(`${api}/v1/udp/sockets/${socket.id}/datagrams?waitMs=5000`)).status).toBe(200);
    service.child.kill('SIGTERM');
    await once(service.child, 'exit');
    const requestLines = service.lines.filter((line) => line.req !== undefined).map((line) => `${line.level} ${(line.req as { method: string; path: string }).method} ${(line.req as { path: string }).path}`);
    // Nest's start-up narration (modules, routes) is there at debug.
    expect(service.lines).toContainEqual(expect.objectContaining({ level: 'debug', context: 'RouterExplorer' }));
    expect(requestLines).toEqual([
      'info POST /v1/udp/sockets',
      `debug POST /v1/udp/sockets/${socket.id}/send`,
      `debug GET /v1/udp/sockets/${socket.id}/datagrams`,
    ]);
  });

  it('exits anyway, with 1, when closing takes longer than SOCKPLANE_SHUTDOWN_TIMEOUT_MS', async () => {
    // A peer that never answers our FIN, and a linger long enough to outlast the deadline.
    const service = start({ SOCKPLANE_CLOSE_LINGER_MS: '60000', SOCKPLANE_SHUTDOWN_TIMEOUT_MS: '300' });
    const api = `http://127.0.0.1:${await service.boundPort()}`;
    const created = await fetch(`${api}/v1/tcp/listeners`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"port":0}' });
    const listener = (await created.json()) as { id: string; local: { port: number } };
    const peer = await connect(listener.local.port, true);
    await fetch(`${api}/v1/tcp/listeners/${listener.id}/connections?waitMs=5000`);

    const signalledAt = Date.now();
    service.child.kill('SIGTERM');
    const [code] = (await once(service.child, 'exit')) as [number | null];
    expect(code).toBe(1);
    expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(300);
    expect(service.lines).toContainEqual(expect.objectContaining({ level: 'error', context: 'Shutdown', timeoutMs: 300 }));
    // The service's FIN came; the half-open peer stays open until it closes its own side.
    expect(peer.ended).toBe(true);
  });
});
