import { ConnectionRules, RuleConnection } from './connection-rules';
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
    sendFrames: (payloads) => {
      sent.push(...payloads.map((payload) => `[${payload.toString()}]`));
      return Promise.resolve();
    },
    close: (mode) => {
      closes.push(mode);
      return Promise.resolve();
    },
    releaseUpTo: () => undefined,
    releaseFramesUpTo: () => undefined,
  };
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
