/** The ways a fault can end a connection: FIN, RST, or keep it open and pass nothing more. */
export const THEN_ACTIONS = ['fin', 'rst', 'blackhole'] as const;
export type ThenAction = (typeof THEN_ACTIONS)[number];

export const CLOSE_HOWS = ['fin', 'rst'] as const;
export const BANDWIDTH_SHARING = ['connection', 'target'] as const;

/** Which bytes of a connection a fault acts on: those it sends to its peer, those it receives, or both. */
export const FAULT_DIRECTIONS = ['toPeer', 'fromPeer', 'both'] as const;
export type FaultDirection = (typeof FAULT_DIRECTIONS)[number];

/** One attribute of a fault type: a whole number in a range, a probability, or one of a few words. */
export type AttributeRule =
  | { kind: 'integer'; min: number; max: number; default?: number; description: string }
  | { kind: 'probability'; default?: number; description: string }
  | { kind: 'choice'; values: readonly string[]; default?: string; description: string };

const ms = (description: string, defaultValue?: number): AttributeRule => ({ kind: 'integer', min: 0, max: 3_600_000, default: defaultValue, description });
const bytes = (description: string, min: number, defaultValue?: number): AttributeRule => ({ kind: 'integer', min, max: 1 << 30, default: defaultValue, description });

/** What a fault type acts on: TCP connections, UDP proxies' datagrams, or both. */
export type FaultProtocol = 'tcp' | 'udp';
const TCP = ['tcp'] as const;
const UDP = ['udp'] as const;
const BOTH = ['tcp', 'udp'] as const;

/** Whether faults of `type` can act on `protocol`. */
export function actsOn(type: FaultType, protocol: FaultProtocol): boolean {
  return (FAULT_TYPES[type].on as readonly FaultProtocol[]).includes(protocol);
}

/**
 * Every fault type, what it acts on, and its attributes. This table is the one source: the API
 * validates attributes by it, and docs/faults.md describes the same rows.
 */
export const FAULT_TYPES = {
  latency: {
    on: BOTH,
    description: 'Holds each chunk (TCP) or datagram (UDP) for `ms` (± `jitterMs`) before passing it on; TCP chunks keep their order',
    attributes: { ms: ms('Delay added to every chunk'), jitterMs: ms('Up to this much more or less, drawn per chunk from the fault’s seed', 0) },
  },
  bandwidth: {
    on: TCP,
    description: 'Passes at most `bytesPerSecond`, per connection or shared by everything the target carries',
    attributes: {
      bytesPerSecond: bytes('The rate', 1),
      shared: { kind: 'choice', values: BANDWIDTH_SHARING, default: 'connection', description: '`connection`: each connection gets the rate; `target`: all the target’s connections share it' },
    },
  },
  slice: {
    on: TCP,
    description: 'Cuts each chunk into pieces of `averageBytes` ± `variationBytes`, `delayMs` apart',
    attributes: { averageBytes: bytes('Mean piece size', 1), variationBytes: bytes('Pieces vary by up to this much', 0, 0), delayMs: ms('Pause between pieces', 0) },
  },
  limitBytes: {
    on: TCP,
    description: 'Passes `bytes` bytes, then does `then`',
    attributes: { bytes: bytes('Bytes let through', 0), then: { kind: 'choice', values: THEN_ACTIONS, default: 'fin', description: 'What happens at the limit' } },
  },
  limitTime: {
    on: TCP,
    description: 'Lets the connection live `ms` after the fault applies to it, then does `then`',
    attributes: { ms: ms('Lifetime'), then: { kind: 'choice', values: THEN_ACTIONS, default: 'fin', description: 'What happens when time is up' } },
  },
  blackhole: {
    on: TCP,
    description: 'Passes nothing and keeps the connection open; with `closeAfterMs`, closes it (FIN) after that long',
    attributes: { closeAfterMs: ms('Close this long after the fault applies; 0 = keep it open', 0) },
  },
  close: {
    on: TCP,
    description: 'Closes the connection `afterMs` after the fault applies: `fin` gracefully, `rst` with a real reset',
    attributes: { afterMs: ms('When', 0), how: { kind: 'choice', values: CLOSE_HOWS, default: 'fin', description: '`fin` or `rst`' } },
  },
  slowClose: {
    on: TCP,
    description: 'On a proxy, passing the other half’s FIN or close on to the client’s half waits `delayMs`',
    attributes: { delayMs: ms('Delay before the close') },
  },
  firstByteDelay: {
    on: TCP,
    description: 'Holds the first byte (and everything after it until then) for `ms`; later bytes pass as they come',
    attributes: { ms: ms('Delay of the first byte') },
  },
  refuse: {
    on: TCP,
    description: 'A listener or proxy resets every new connection at once',
    attributes: {},
  },
  corrupt: {
    on: TCP,
    description: 'Flips one random bit of each byte with `probability`, drawn from the fault’s seed',
    attributes: { probability: { kind: 'probability', description: 'Chance per byte' } },
  },
  drop: {
    on: UDP,
    description: 'Drops each datagram with `probability`; `correlation` makes drops come in bursts (each draw leans that much on the last)',
    attributes: { probability: { kind: 'probability', description: 'Chance per datagram' }, correlation: { kind: 'probability', default: 0, description: 'How much each draw repeats the last one (0: independent)' } },
  },
  duplicate: {
    on: UDP,
    description: 'Sends each datagram twice with `probability`',
    attributes: { probability: { kind: 'probability', description: 'Chance per datagram' } },
  },
  reorder: {
    on: UDP,
    description: 'Holds each datagram a random time up to `windowMs`, so datagrams sent within the window arrive shuffled',
    attributes: { windowMs: ms('The longest hold') },
  },
} as const satisfies Record<string, { on: readonly FaultProtocol[]; description: string; attributes: Record<string, AttributeRule> }>;

export type FaultType = keyof typeof FAULT_TYPES;
export const FAULT_TYPE_NAMES = Object.keys(FAULT_TYPES) as FaultType[];

/** Attribute values after validation, defaults filled in. */
export type FaultAttributes = Readonly<Record<string, number | string>>;

/** Checks `raw` against the type's attribute rules; returns the values with defaults, or the problems (field → message). */
export function parseAttributes(type: FaultType, raw: Readonly<Record<string, unknown>>): { attributes: FaultAttributes } | { problems: { field: string; message: string }[] } {
  const rules: Record<string, AttributeRule> = FAULT_TYPES[type].attributes;
  const problems: { field: string; message: string }[] = [];
  const attributes: Record<string, number | string> = {};
  for (const key of Object.keys(raw)) {
    if (!(key in rules)) problems.push({ field: `attributes.${key}`, message: `${type} takes no attribute ${key}; it takes ${Object.keys(rules).join(', ') || 'none'}` });
  }
  for (const [key, rule] of Object.entries(rules)) {
    const value = raw[key] ?? rule.default;
    const field = `attributes.${key}`;
    if (value === undefined) {
      problems.push({ field, message: `${type} needs ${key}` });
      continue;
    }
    const problem = checkValue(rule, value);
    if (problem) problems.push({ field, message: `${key} ${problem}` });
    else attributes[key] = value as number | string;
  }
  return problems.length > 0 ? { problems } : { attributes };
}

function checkValue(rule: AttributeRule, value: unknown): string | null {
  switch (rule.kind) {
    case 'integer':
      return Number.isInteger(value) && (value as number) >= rule.min && (value as number) <= rule.max ? null : `must be a whole number from ${rule.min} to ${rule.max}`;
    case 'probability':
      return typeof value === 'number' && value >= 0 && value <= 1 ? null : 'must be a number from 0 to 1';
    case 'choice':
      return typeof value === 'string' && rule.values.includes(value) ? null : `must be one of ${rule.values.join(', ')}`;
  }
}
