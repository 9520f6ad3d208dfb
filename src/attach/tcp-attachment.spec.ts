import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { WebSocket } from 'ws';
import { TcpConnection } from '../sockets/tcp-connection';
import { RAW_PROTOCOL } from './attach-protocol';
import { TcpAttachment } from './tcp-attachment';

/** What the attachment uses of a WebSocket: sends are recorded, and written to `transport` as ws writes frames. */
class FakeWebSocket extends EventEmitter {
  readonly readyState = WebSocket.OPEN;
  readonly bufferedAmount = 0;
  readonly messages: Buffer[] = [];

  constructor(private readonly transport: PassThrough) {
    super();
  }

  send(message: Buffer, _options: object, callback?: () => void): void {
    this.messages.push(message);
    this.transport.write(message, callback);
  }
}

/** What the attachment uses of a connection with nothing held yet. */
const connection = {
  id: 'tc_1',
  buffer: { oldestOffset: 0, endOffset: 0, heldBytes: 0 },
  inputEnded: false,
  closed: null,
  hold: () => undefined,
  unhold: () => undefined,
  releaseUpTo: () => undefined,
} as unknown as TcpConnection;

describe('TcpAttachment', () => {
  it('forwards the chunks of one turn as messages of their own, written to the socket together when the turn ends', async () => {
    const transport = new PassThrough();
    const writes: number[] = [];
    transport.on('data', (chunk: Buffer) => writes.push(chunk.length));
    const ws = new FakeWebSocket(transport);
    const attachment = new TcpAttachment(
      ws as unknown as WebSocket,
      connection,
      { protocol: RAW_PROTOCOL, fromOffset: null, releaseAuto: false, read: true, write: false, transport },
      { highWaterBytes: 1024 * 1024 },
      () => undefined,
    );
    await attachment.start();

    ['abc', 'defg', 'hi'].reduce((from, text) => {
      attachment.received(Buffer.from(text), from);
      return from + text.length;
    }, 0);
    const duringTurn = { corked: transport.writableCorked, held: transport.writableLength, written: writes.length };
    await new Promise((resolve) => setImmediate(resolve));

    expect(ws.messages.map(String)).toEqual(['abc', 'defg', 'hi']);
    expect(duringTurn).toEqual({ corked: 1, held: 9, written: 0 });
    expect({ corked: transport.writableCorked, written: writes.reduce((sum, length) => sum + length, 0) }).toEqual({ corked: 0, written: 9 });
  });
});
