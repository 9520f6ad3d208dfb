import { once } from 'node:events';
import { Socket } from 'node:net';
import { ConnectionPairs } from '../../../test/support/connection-pair';
import { FRAMING_PRESETS } from '../framing/framing';
import { SocketEventBus } from '../socket-events';
import { ConnectionRules, RuleConnection } from './connection-rules';
import { setConnectionRules } from './rule-attach';
import { compileRuleSet } from './rule-set';

const LIMITS = { maxRules: 10, maxPatternBytes: 64, maxReplyBytes: 64 };

/** A connection that records what it was asked to do. */
function fakeConnection(): RuleConnection & { sent: string[]; closes: string[] } {
  const sent: string[] = [];
  const closes: string[] = [];
  return {
    state: 'open',
    sent,
    closes,
    send: (chunks) => {
      sent.push(Buffer.concat(chunks).toString());
      return Promise.resolve();
    },
    sendNow: (chunks) => {
      sent.push(Buffer.concat(chunks).toString());
    },
    sendFraming: null,
    countFramesSent: () => undefined,
    whenWritten: () => Promise.resolve(),
    close: (mode) => {
      closes.push(mode);
      return Promise.resolve();
    },
    releaseUpTo: () => undefined,
    releaseFramesUpTo: () => undefined,
  };
}

/** What the peer receives from now on, once it is at least `bytes` long. */
function receiveAtLeast(peer: Socket, bytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  return new Promise((resolve) => {
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      length += chunk.length;
      if (length < bytes) return;
      peer.off('data', onData);
      resolve(Buffer.concat(chunks));
    };
    peer.on('data', onData);
  });
}

/** Timers keeping the process alive (the idle timer is unref'd, so only the delay counts here). */
const timers = (): number => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;

describe('ConnectionRules', () => {
  it('answers the chunks of one turn in one send, in order, and a delayed answer after them', async () => {
    const connection = fakeConnection();
    const set = compileRuleSet(
      { rules: [{ match: { equals: 'slow' }, then: [{ delayMs: 5 }, { send: 'late' }] }, { then: [{ send: '${frame}!' }] }] },
      'tcp',
      LIMITS,
    );
    const rules = new ConnectionRules(connection, set, { startTls: () => Promise.resolve(), matched: () => undefined });
    rules.received(Buffer.from('a'), 0, false);
    rules.received(Buffer.from('b'), 1, false);
    rules.received(Buffer.from('slow'), 2, false);
    rules.received(Buffer.from('c'), 6, false);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(connection.sent).toEqual(['a!b!', 'late', 'c!']);
    rules.dispose();
  });

  it('sends the replies to a received chunk when the chunk has been through, before anything else runs', () => {
    const connection = fakeConnection();
    const set = compileRuleSet({ rules: [{ then: [{ send: '${frame}!' }] }] }, 'tcp', LIMITS);
    const rules = new ConnectionRules(connection, set, { startTls: () => Promise.resolve(), matched: () => undefined });
    rules.startChunk();
    rules.received(Buffer.from('a'), 0, false);
    rules.received(Buffer.from('b'), 1, false);
    expect(connection.sent).toEqual([]);
    rules.endChunk();
    expect(connection.sent).toEqual(['a!b!']);
    rules.dispose();
  });

  it('leaves no timer once disposed: a pending delay and the idle timer go with it, and nothing more is sent', async () => {
    const connection = fakeConnection();
    const set = compileRuleSet(
      { rules: [{ on: 'idle', idleMs: 60_000, then: [{ send: 'idle' }] }, { then: [{ delayMs: 60_000 }, { send: 'never' }, { close: 'fin' }] }] },
      'tcp',
      LIMITS,
    );
    const before = timers();
    const rules = new ConnectionRules(connection, set, { startTls: () => Promise.resolve(), matched: () => undefined });
    rules.connected();
    rules.received(Buffer.from('x'), 0, false);
    await new Promise((resolve) => setImmediate(resolve));
    expect(timers()).toBe(before + 1);
    rules.dispose();
    expect(timers()).toBe(before);
    await new Promise((resolve) => setImmediate(resolve));
    expect({ sent: connection.sent, closes: connection.closes }).toEqual({ sent: [], closes: [] });
  });
});

describe('ConnectionRules on a connection', () => {
  const pairs = new ConnectionPairs();
  afterEach(() => pairs.closeAll());
  const KEY_VALUE = compileRuleSet({ rules: [{ match: { regex: '^GET (?P<key>\\w+)$' }, then: [{ send: 'VALUE ${key} 42', frame: true }] }] }, 'tcp', LIMITS);
  const noTls = () => Promise.reject(new Error('no TLS here'));

  it("hands a lone frame's reply to the transport before the turn that read it goes on", async () => {
    const { connection, peer } = await pairs.open({ framing: { framing: FRAMING_PRESETS.lines, preset: 'lines', onError: 'record' } });
    setConnectionRules(connection, KEY_VALUE, new SocketEventBus(), noTls);
    // What a callback queued right after the chunk passed this stage sees: it runs before anything deferred could.
    const seen: { bytesOut: number; pendingWriteBytes: number }[] = [];
    connection.stages.add({
      name: 'probe',
      received: (chunk, next) => {
        next(chunk);
        queueMicrotask(() => seen.push({ bytesOut: connection.bytesOut, pendingWriteBytes: connection.pendingWriteBytes }));
      },
    });
    peer.write('GET colour\n');
    const [reply] = (await once(peer, 'data')) as [Buffer];
    expect(reply.toString()).toBe('VALUE colour 42\r\n');
    // Handed over and taken by the kernel already, not waiting in the stream for the turn to end.
    expect(seen).toEqual([{ bytesOut: reply.length, pendingWriteBytes: 0 }]);
  });

  it('answers the frames of one chunk in one write', async () => {
    const { connection, peer } = await pairs.open({ framing: { framing: FRAMING_PRESETS.lines, preset: 'lines', onError: 'record' } });
    setConnectionRules(connection, KEY_VALUE, new SocketEventBus(), noTls);
    const writes: string[] = [];
    connection.stages.add({
      name: 'probe',
      sent: (chunk, next) => {
        writes.push(chunk.toString());
        next(chunk);
      },
    });
    peer.write('GET a\nGET b\nGET c\n');
    await receiveAtLeast(peer, 36);
    expect(writes).toEqual(['VALUE a 42\r\nVALUE b 42\r\nVALUE c 42\r\n']);
  });

  it('frames replies as the connection frames: a length prefix before each, an opener and a delimiter around each', async () => {
    const echo = compileRuleSet({ rules: [{ then: [{ send: '<${frame}>', frame: true }] }] }, 'tcp', LIMITS);
    const prefixed = await pairs.open({ framing: { framing: FRAMING_PRESETS.u16be, preset: 'u16be', onError: 'record' } });
    setConnectionRules(prefixed.connection, echo, new SocketEventBus(), noTls);
    prefixed.peer.write(Buffer.from([0, 2, 0x68, 0x69, 0, 1, 0x21]));
    expect(await receiveAtLeast(prefixed.peer, 11)).toEqual(Buffer.from([0, 4, ...Buffer.from('<hi>'), 0, 3, ...Buffer.from('<!>')]));
    expect(prefixed.connection.framingStatus.framesOut).toBe(2);

    const mllp = await pairs.open({ framing: { framing: FRAMING_PRESETS.mllp, preset: 'mllp', onError: 'record' } });
    setConnectionRules(mllp.connection, echo, new SocketEventBus(), noTls);
    mllp.peer.write('\x0bMSH\x1c\r');
    const [reply] = (await once(mllp.peer, 'data')) as [Buffer];
    expect(reply.toString('latin1')).toBe('\x0b<MSH>\x1c\r');
  });

  it("sends a utf8 regex's group back as the bytes the peer sent, invalid UTF-8 included", async () => {
    const { connection, peer } = await pairs.open({ framing: { framing: FRAMING_PRESETS.lines, preset: 'lines', onError: 'record' } });
    const set = compileRuleSet({ rules: [{ match: { regex: '^NAME (?P<name>.+)$' }, then: [{ send: 'HELLO ${name}', frame: true }] }] }, 'tcp', LIMITS);
    setConnectionRules(connection, set, new SocketEventBus(), noTls);
    peer.write(Buffer.from([...Buffer.from('NAME '), 0xc3, 0xa9, 0xff, 0x0a]));
    // é as its two bytes and 0xff as it came, not as U+FFFD's three.
    expect(await receiveAtLeast(peer, 11)).toEqual(Buffer.from([...Buffer.from('HELLO '), 0xc3, 0xa9, 0xff, 0x0d, 0x0a]));
  });

  it('drops a framed reply that would not read back as one frame, and sends the others of its chunk', async () => {
    const { connection, peer } = await pairs.open({ framing: { framing: FRAMING_PRESETS.lines, preset: 'lines', onError: 'record' } });
    // A reply holding a line break would reach the peer as two frames.
    const set = compileRuleSet({ rules: [{ match: { equals: 'split' }, then: [{ send: 'a\nb', frame: true }] }, { then: [{ send: 'ok ${frame}', frame: true }] }] }, 'tcp', LIMITS);
    setConnectionRules(connection, set, new SocketEventBus(), noTls);
    peer.write('one\nsplit\ntwo\n');
    expect((await receiveAtLeast(peer, 16)).toString()).toBe('ok one\r\nok two\r\n');
    expect(connection.framingStatus.framesOut).toBe(2);
  });

  it('releases the frames a chunk discarded once it has been through, the kept ones before them with them', async () => {
    const { connection, peer } = await pairs.open({ framing: { framing: FRAMING_PRESETS.lines, preset: 'lines', onError: 'record' } });
    const set = compileRuleSet({ rules: [{ match: { equals: 'keep' }, then: [{ send: 'kept', frame: true }] }, { then: [{ send: 'gone', frame: true }, { discard: true }] }] }, 'tcp', LIMITS);
    setConnectionRules(connection, set, new SocketEventBus(), noTls);
    peer.write('keep\ndrop\nkeep\n');
    expect((await receiveAtLeast(peer, 18)).toString()).toBe('kept\r\ngone\r\nkept\r\n');
    expect(connection.framingStatus).toMatchObject({ oldestIndex: 2, endIndex: 3, heldFrames: 1 });
    expect(connection.buffer).toMatchObject({ oldestOffset: 10, endOffset: 15 });
  });
});
