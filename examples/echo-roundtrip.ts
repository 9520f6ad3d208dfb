/**
 * Another service integrating with sockplane through the typed client: it opens an echo server,
 * connects a client to it, sends a line, reads the echo with a long-poll, and cleans up.
 *
 *   npm run example -- http://127.0.0.1:3000 "Hello, server!"
 */
import { SockplaneClient, createSockplaneClient } from '../clients/typescript';

/** The `data` of a call, or an Error carrying the problem+json `code` and `detail`. */
function ok<T>(result: { data?: T; error?: { code: string; detail: string } }, what: string): T {
  if (result.data === undefined) {
    throw new Error(`${what} failed: ${result.error ? `${result.error.code}: ${result.error.detail}` : 'no answer'}`);
  }
  return result.data;
}

/** Echoes `message` through a sockplane listener and returns what came back. */
export async function echoRoundtrip(api: SockplaneClient, message: string): Promise<string> {
  const listener = ok(
    await api.POST('/v1/tcp/listeners', { body: { host: '127.0.0.1', port: 0, mode: 'echo', labels: { example: 'echo-roundtrip' } } }),
    'opening the echo listener',
  );
  try {
    const port = listener.local?.port;
    if (port === undefined) throw new Error(`listener ${listener.id} has no local address`);
    const connection = ok(await api.POST('/v1/tcp/connections', { body: { host: '127.0.0.1', port, connectTimeoutMs: 5000 } }), 'connecting');
    const path = { id: connection.id };
    try {
      const bytes = Buffer.byteLength(message);
      ok(await api.POST('/v1/tcp/connections/{id}/send', { params: { path }, body: { data: message, encoding: 'utf8' } }), 'sending');
      // Long-poll: the answer comes as soon as the whole echo is back, not after waitMs.
      const read = ok(
        await api.GET('/v1/tcp/connections/{id}/buffer', { params: { path, query: { waitMs: 5000, minBytes: bytes, encoding: 'utf8' } } }),
        'reading',
      );
      ok(await api.DELETE('/v1/tcp/connections/{id}/buffer', { params: { path, query: { upTo: read.nextOffset } } }), 'releasing');
      return read.data;
    } finally {
      await api.DELETE('/v1/tcp/connections/{id}', { params: { path } });
    }
  } finally {
    await api.DELETE('/v1/tcp/listeners/{id}', { params: { path: { id: listener.id }, query: { closeConnections: true } } });
  }
}

/** `[baseUrl] [message]` from the command line: prints what the echo server sent back. */
export async function main([baseUrl = 'http://127.0.0.1:3000', message = 'Hello, server!']: string[]): Promise<void> {
  console.log(`Received: ${await echoRoundtrip(createSockplaneClient(baseUrl), message)}`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
