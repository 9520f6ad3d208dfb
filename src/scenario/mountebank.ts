import { randomBytes } from 'node:crypto';
import { ApiProblem, FieldError } from '../common/api-problem';
import { MAX_DELAY_MS, MAX_RESPONSES } from '../sockets/rules/rule-set';

/** A listener request (what `POST /v1/tcp/listeners` takes) built from an imposter. */
export interface ImportedListener {
  name: string;
  host?: string;
  port: number;
  rules: { rules: Record<string, unknown>[]; counting: 'shared' };
  labels: Record<string, string>;
}

type Json = Record<string, unknown>;

/** An imposter converted, with where in the imposter each rule, condition and action came from. */
export interface MountebankImport {
  listener: ImportedListener;
  /** The imposter's field a field of the listener request was made from (`stubs[1].predicates[0]`), or null for one no stub gave. */
  originOf(field: string): string | null;
}

/** Fields of an imposter that say nothing about how it behaves (an exported imposter carries them): passed over. */
const INFORMATIONAL = ['recordRequests', 'requests', 'numberOfRequests', '_links', 'allowCORS'];
const TEXT_PREDICATES = ['equals', 'deepEquals', 'contains', 'startsWith', 'endsWith'] as const;
const WHY_NOT: Record<string, string> = {
  inject: 'runs JavaScript; sockplane takes data, never code',
  decorate: 'runs JavaScript; sockplane takes data, never code',
  shellTransform: 'runs a shell command; sockplane takes data, never code',
  proxy: 'proxies are not imported (sockplane proxies are resources of their own)',
  endOfRequestResolver: 'runs JavaScript; frame the listener instead (PUT …/framing), e.g. a length prefix or a delimiter',
  copy: 'copies request fields with xpath or jsonpath; write a rule with a regex and ${name} instead',
  lookup: 'reads an external data source',
  exists: 'is not imported; use a regex match',
  except: 'is not imported',
  xpath: 'is not imported',
  jsonpath: 'is not imported',
  requestFrom: 'only the request data is matched',
};

/**
 * A mountebank TCP imposter as a listener with reply rules. mountebank reads each packet as one
 * request, as a listener without framing judges each received chunk, so stubs become rules in
 * order: predicates a match (text predicates ignore case unless `caseSensitive`, as in
 * mountebank), `is` responses sends, circular responses and `repeat` cycling responses, `wait` a
 * delay, the two faults a reset or random bytes and a close, `defaultResponse` a last rule. What
 * cannot be carried over is refused, every place named, never dropped.
 */
export function fromMountebank(imposter: unknown): MountebankImport {
  const origins = new WeakMap<object, string>();
  const from = <T extends object>(made: T, at: string): T => {
    origins.set(made, at);
    return made;
  };
  const refused: FieldError[] = [];
  const refuse = (field: string, message: string): void => void refused.push({ field, message: `${field} ${message}` });
  if (!isObject(imposter)) throw new ApiProblem('VALIDATION_FAILED', 'the body must be a mountebank imposter (a JSON object)', {}, [{ field: 'body', message: 'must be an object' }]);
  if (imposter.protocol !== 'tcp') refuse('protocol', `is ${JSON.stringify(imposter.protocol)}; only tcp imposters are imported`);
  const mode = imposter.mode ?? 'text';
  if (mode !== 'text' && mode !== 'binary') refuse('mode', 'must be text or binary');
  const binary = mode === 'binary';
  for (const key of Object.keys(imposter)) {
    if (['protocol', 'port', 'host', 'name', 'mode', 'stubs', 'defaultResponse', ...INFORMATIONAL].includes(key)) continue;
    refuse(key, WHY_NOT[key] ?? 'is not a field sockplane imports');
  }
  const port = imposter.port ?? 0;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) refuse('port', 'must be a port number');
  const stubs = Array.isArray(imposter.stubs) ? imposter.stubs : [];
  const rules = from(
    stubs.map((stub: unknown, i) => stubRule(stub, `stubs[${i}]`, i, binary, refuse, from)),
    'stubs',
  );
  if (imposter.defaultResponse !== undefined) {
    const actions = responseActions(imposter.defaultResponse, 'defaultResponse', binary, refuse, from);
    if (actions.length > 0) rules.push(from({ id: 'default-response', then: actions }, 'defaultResponse'));
  }
  if (refused.length > 0) {
    throw new ApiProblem('VALIDATION_FAILED', `the imposter cannot be imported as it is: ${refused.map((e) => e.message).join('; ')}`, {}, refused);
  }
  const name = typeof imposter.name === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(imposter.name) ? imposter.name : `mountebank-${String(port)}`;
  const listener: ImportedListener = {
    name,
    ...(typeof imposter.host === 'string' ? { host: imposter.host } : {}),
    port: port as number,
    rules: { rules, counting: 'shared' },
    labels: { 'imported-from': 'mountebank' },
  };
  return { listener, originOf: (field) => originOf(listener, field, origins) };
}

/**
 * Walks a field path (`rules.rules[0].match.all[1].regex`) through the converted request and
 * answers the imposter field the deepest object on it came from.
 */
function originOf(listener: ImportedListener, field: string, origins: WeakMap<object, string>): string | null {
  let at: unknown = listener;
  let origin: string | null = null;
  for (const step of field.split(/[.[\]]+/).filter((part) => part !== '')) {
    if (typeof at !== 'object' || at === null) break;
    at = (at as Record<string, unknown>)[step];
    if (typeof at === 'object' && at !== null) origin = origins.get(at) ?? origin;
  }
  return origin;
}

/**
 * A refusal of the converted request, said of the imposter: each error names the imposter field
 * its rule, condition or action came from (the request's own field follows in the message, since
 * the limits it broke are sockplane's), so the caller knows which stub to change.
 */
export function inImposterTerms(problem: ApiProblem, imported: MountebankImport): ApiProblem {
  const errors = problem.errors.map(({ field, message }) => {
    const origin = imported.originOf(field);
    return origin === null ? { field, message } : { field: origin, message: `${origin}, imported as ${field}: ${message}` };
  });
  return new ApiProblem('VALIDATION_FAILED', `the imposter cannot be imported as it is: ${errors.map((e) => e.message).join('; ')}`, {}, errors);
}

/** Records the imposter field a made object came from. */
type Origin = <T extends object>(made: T, at: string) => T;

function stubRule(stub: unknown, at: string, index: number, binary: boolean, refuse: (field: string, message: string) => void, from: Origin): Json {
  if (!isObject(stub)) {
    refuse(at, 'must be an object');
    return {};
  }
  for (const key of Object.keys(stub)) if (key !== 'predicates' && key !== 'responses' && key !== '_links') refuse(`${at}.${key}`, WHY_NOT[key] ?? 'is not a stub field sockplane imports');
  const predicates = Array.isArray(stub.predicates) ? stub.predicates : [];
  const matches = predicates.map((predicate: unknown, i) => predicateMatch(predicate, `${at}.predicates[${i}]`, binary, refuse, from));
  const responses = Array.isArray(stub.responses) && stub.responses.length > 0 ? stub.responses : [{ is: { data: '' } }];
  const answers: { then: Json[] }[] = [];
  responses.forEach((response: unknown, i) => {
    const field = `${at}.responses[${i}]`;
    const then = responseActions(response, field, binary, refuse, from);
    const repeat = isObject(response) && response.repeat !== undefined ? response.repeat : 1;
    if (typeof repeat !== 'number' || !Number.isInteger(repeat) || repeat < 1) refuse(`${field}.repeat`, 'must be a whole number of times, 1 or more');
    else for (let n = 0; n < repeat && answers.length <= MAX_RESPONSES; n++) answers.push({ then });
  });
  // Each repeat is one answer of the rule's cycle: a cycle longer than a rule holds is refused, not cut short.
  if (answers.length > MAX_RESPONSES) refuse(`${at}.responses`, `cycle through more than ${MAX_RESPONSES} answers (repeat counted); a rule holds at most ${MAX_RESPONSES}`);
  const rule: Json = from({ id: `stub-${index + 1}` }, at);
  if (matches.length === 1) rule.match = matches[0];
  if (matches.length > 1) rule.match = { all: matches };
  if (answers.length === 1) rule.then = from(answers[0].then, `${at}.responses[0]`);
  else rule.responses = from(answers, `${at}.responses`);
  return rule;
}

function predicateMatch(predicate: unknown, at: string, binary: boolean, refuse: (field: string, message: string) => void, from: Origin): Json {
  return from(predicateCondition(predicate, at, binary, refuse, from), at);
}

function predicateCondition(predicate: unknown, at: string, binary: boolean, refuse: (field: string, message: string) => void, from: Origin): Json {
  if (!isObject(predicate)) {
    refuse(at, 'must be an object');
    return {};
  }
  const caseSensitive = predicate.caseSensitive === true;
  const ignoreCase = !binary && !caseSensitive;
  for (const key of Object.keys(predicate)) {
    if (['caseSensitive', 'keyCaseSensitive', ...TEXT_PREDICATES, 'matches', 'and', 'or', 'not'].includes(key)) continue;
    if (key === 'except' && predicate.except === '') continue;
    refuse(`${at}.${key}`, WHY_NOT[key] ?? 'is not a predicate sockplane imports');
  }
  for (const operator of TEXT_PREDICATES) {
    if (predicate[operator] === undefined) continue;
    const data = dataOf(predicate[operator], `${at}.${operator}`, refuse);
    const kind = operator === 'deepEquals' ? 'equals' : operator;
    return { [kind]: data, encoding: binary ? 'base64' : 'utf8', ...(ignoreCase ? { ignoreCase: true } : {}) };
  }
  if (predicate.matches !== undefined) {
    if (binary) refuse(`${at}.matches`, 'cannot be imported in binary mode (mountebank refuses it there too)');
    return { regex: dataOf(predicate.matches, `${at}.matches`, refuse), ...(ignoreCase ? { ignoreCase: true } : {}) };
  }
  for (const [operator, combined] of [
    ['and', 'all'],
    ['or', 'any'],
  ] as const) {
    const list = predicate[operator];
    if (list === undefined) continue;
    if (!Array.isArray(list)) {
      refuse(`${at}.${operator}`, 'must be a list of predicates');
      return {};
    }
    // mountebank's and of nothing holds and its or of nothing does not; sockplane refuses empty
    // lists as a likely mistake, so these are written as what they do.
    if (list.length === 0) return combined === 'all' ? {} : { not: {} };
    return { [combined]: list.map((inner: unknown, i) => predicateMatch(inner, `${at}.${operator}[${i}]`, binary, refuse, from)) };
  }
  if (predicate.not !== undefined) return { not: predicateMatch(predicate.not, `${at}.not`, binary, refuse, from) };
  return {};
}

/** A predicate's operand: only the request data can be matched. */
function dataOf(operand: unknown, at: string, refuse: (field: string, message: string) => void): string {
  if (!isObject(operand)) {
    refuse(at, 'must be an object such as {"data": "…"}');
    return '';
  }
  for (const key of Object.keys(operand)) if (key !== 'data') refuse(`${at}.${key}`, WHY_NOT[key] ?? 'is not a TCP request field');
  if (typeof operand.data === 'string') return operand.data;
  // Taken as '', a contains or startsWith would match every request.
  refuse(`${at}.data`, 'must be a string');
  return '';
}

function responseActions(response: unknown, at: string, binary: boolean, refuse: (field: string, message: string) => void, from: Origin): Json[] {
  if (!isObject(response)) {
    refuse(at, 'must be an object');
    return [];
  }
  const actions: Json[] = [];
  for (const key of Object.keys(response)) if (!['is', 'fault', 'behaviors', '_behaviors', 'repeat', 'data'].includes(key)) refuse(`${at}.${key}`, WHY_NOT[key] ?? 'is not a response sockplane imports');
  actions.push(...waits(response, at, refuse, from));
  // A defaultResponse is the `is` itself: {"data": "…"}.
  const is = isObject(response.is) ? response.is : 'data' in response ? response : undefined;
  if (is) {
    for (const key of Object.keys(is)) if (key !== 'data' && !(is === response && ['behaviors', '_behaviors', 'repeat'].includes(key))) refuse(`${at}.is.${key}`, 'is not a TCP response field');
    if (is.data !== undefined && typeof is.data !== 'string') refuse(`${at}.is.data`, 'must be a string');
    // mountebank sends data as it is written: a ${ in it is text, not a place to fill in. (A
    // function, since a replacement string would read $$ as one $.)
    else if (typeof is.data === 'string' && is.data !== '') actions.push(from({ send: is.data.replaceAll('${', () => '$${'), encoding: binary ? 'base64' : 'utf8' }, is === response ? `${at}.data` : `${at}.is.data`));
  }
  if (response.fault === 'CONNECTION_RESET_BY_PEER') actions.push({ close: 'rst' });
  else if (response.fault === 'RANDOM_DATA_THEN_CLOSE') actions.push({ send: randomBytes(32).toString('hex'), encoding: 'hex' }, { close: 'fin' });
  else if (response.fault !== undefined) refuse(`${at}.fault`, `${JSON.stringify(response.fault)} is not one of the TCP faults (CONNECTION_RESET_BY_PEER, RANDOM_DATA_THEN_CLOSE)`);
  return actions;
}

/** `wait` behaviours (the list form, and the older `_behaviors` object) as delays; the other behaviours are refused. */
function waits(response: Json, at: string, refuse: (field: string, message: string) => void, from: Origin): Json[] {
  const delays: Json[] = [];
  const take = (behavior: Json, field: string): void => {
    for (const [key, value] of Object.entries(behavior)) {
      if (key === 'wait' && typeof value === 'number') {
        if (value >= 0 && value <= MAX_DELAY_MS) delays.push(from({ delayMs: Math.round(value) }, `${field}.wait`));
        else refuse(`${field}.wait`, `is ${value}; give a number of milliseconds from 0 to ${MAX_DELAY_MS}`);
      } else if (key === 'wait') refuse(`${field}.wait`, 'as a function runs JavaScript; give a number of milliseconds');
      else refuse(`${field}.${key}`, WHY_NOT[key] ?? 'is not a behavior sockplane imports');
    }
  };
  if (Array.isArray(response.behaviors)) response.behaviors.forEach((behavior: unknown, i) => (isObject(behavior) ? take(behavior, `${at}.behaviors[${i}]`) : refuse(`${at}.behaviors[${i}]`, 'must be an object')));
  if (isObject(response._behaviors)) take(response._behaviors, `${at}._behaviors`);
  return delays;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
