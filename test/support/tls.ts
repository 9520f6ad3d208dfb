import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PeerCertificate, Server, TLSSocket, TlsOptions, connect, createServer } from 'node:tls';

type SNICallback = NonNullable<TlsOptions['SNICallback']>;

/** A directory under the system's temp dir (never the repository), removed by `remove()`. */
export class TempDir {
  private constructor(readonly path: string) {}

  static async create(): Promise<TempDir> {
    return new TempDir(await mkdtemp(join(tmpdir(), 'sockplane-tls-')));
  }

  async write(name: string, content: string): Promise<string> {
    const file = join(this.path, name);
    await writeFile(file, content);
    return file;
  }

  remove(): Promise<void> {
    return rm(this.path, { recursive: true, force: true });
  }
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs Debian's `openssl` with `args`, its stdin closed at once (so `s_client` ends after the handshake). */
export async function openssl(args: string[], cwd?: string): Promise<CommandResult> {
  const child = spawn('openssl', args, { cwd });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  child.stdin.end();
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

/** Makes a certificate and key with `openssl req -x509` in `dir`; `extra` adds options (`-addext`, `-days`…). */
export async function opensslSelfSigned(dir: TempDir, name: string, extra: string[] = []): Promise<{ certFile: string; keyFile: string }> {
  const certFile = join(dir.path, `${name}.crt`);
  const keyFile = join(dir.path, `${name}.key`);
  const result = await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile, '-subj', `/CN=${name}`, ...extra]);
  if (result.code !== 0) throw new Error(`openssl req failed: ${result.stderr}`);
  return { certFile, keyFile };
}

/** A Node TLS server on 127.0.0.1 that picks its certificate by SNI and answers each connection with "hello". */
export async function sniServer(SNICallback: SNICallback, defaults: { key: string; cert: string }): Promise<{ server: Server; port: number }> {
  const server = createServer({ SNICallback, ...defaults }, (socket) => socket.end('hello'));
  server.on('tlsClientError', () => undefined);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

/** Connects with Node's TLS client trusting only `ca`, and reports what it saw of the server. */
export async function tlsProbe(port: number, ca: string, servername?: string): Promise<{ authorized: boolean; error?: string; certificate: PeerCertificate; received: string }> {
  const socket: TLSSocket = connect({ host: '127.0.0.1', port, ca, servername });
  try {
    await once(socket, 'secureConnect');
    const certificate = socket.getPeerCertificate();
    let received = '';
    socket.setEncoding('utf8').on('data', (text: string) => (received += text));
    await once(socket, 'end');
    return { authorized: socket.authorized, error: socket.authorizationError?.message, certificate, received };
  } finally {
    socket.destroy();
  }
}
