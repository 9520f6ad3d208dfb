import { Duplex } from 'node:stream';

/** Each write of an echo stream. */
const WRITE_CHUNK = Buffer.alloc(256 * 1024, 0x61);

/**
 * Streams `total` bytes over `socket` to an echo and waits for all of them to come back, writing
 * while reading (with the socket's back-pressure); `settle` bounds the wait (a timeout, or as it is).
 * MB/s (10⁶ bytes/s) from the first byte written to the last one echoed.
 */
export async function echoThroughput(socket: Duplex, total: number, name: string, settle: (work: Promise<unknown>) => Promise<unknown> = (work) => work): Promise<number> {
  const start = performance.now();
  const echoed = new Promise<void>((resolve, reject) => {
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received >= total) resolve();
    });
    socket.once('close', () => reject(new Error(`${name} closed after echoing ${received} of ${total} bytes`)));
  });
  const written = (async (): Promise<void> => {
    for (let sent = 0; sent < total; ) {
      const piece = total - sent >= WRITE_CHUNK.length ? WRITE_CHUNK : WRITE_CHUNK.subarray(0, total - sent);
      sent += piece.length;
      if (!socket.write(piece)) await new Promise((resolve) => socket.once('drain', resolve));
    }
  })();
  await settle(Promise.all([written, echoed]));
  return total / 1e6 / ((performance.now() - start) / 1000);
}
