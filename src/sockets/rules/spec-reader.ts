import { PAYLOAD_ENCODINGS, PayloadEncoding } from '../payload-codec';

/** A rule set that cannot be compiled: the field at fault (a dotted path with list positions) and why. */
export class RuleInvalid extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'RuleInvalid';
  }
}

/**
 * Reads one object of a rule set written by a caller (a request body, a scenario file), checking
 * each field's type and bounds as it goes and naming the field by its path when one is wrong.
 * Rule sets come from files as well as requests, so the runtime checks them itself.
 */
export class SpecReader {
  private readonly value: Record<string, unknown>;

  constructor(
    value: unknown,
    private readonly prefix: string,
  ) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RuleInvalid(prefix || 'body', `${prefix || 'the rule set'} must be an object`);
    this.value = value as Record<string, unknown>;
  }

  /** Where this object is in the rule set. */
  get location(): string {
    return this.prefix || 'body';
  }

  path(key: string): string {
    return this.prefix ? `${this.prefix}.${key}` : key;
  }

  has(key: string): boolean {
    return this.value[key] !== undefined;
  }

  keys(): string[] {
    return Object.keys(this.value).filter((key) => this.value[key] !== undefined);
  }

  onlyKeys(allowed: readonly string[]): void {
    for (const key of this.keys()) if (!allowed.includes(key)) throw new RuleInvalid(this.path(key), `property ${this.path(key)} should not exist`);
  }

  /** Runs `read`, turning what it throws into a RuleInvalid about `key`. */
  at<T>(key: string, read: () => T): T {
    try {
      return read();
    } catch (err) {
      if (err instanceof RuleInvalid) throw err;
      throw new RuleInvalid(this.path(key), `${this.path(key)}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  text(key: string, maxBytes: number): string | undefined {
    const value = this.value[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw new RuleInvalid(this.path(key), `${this.path(key)} must be a string`);
    const bytes = Buffer.byteLength(value);
    if (bytes > maxBytes) throw new RuleInvalid(this.path(key), `${this.path(key)} is ${bytes} bytes, over the limit of ${maxBytes}`);
    return value;
  }

  /** A name (an id, a state): text that is not empty, as an empty one names nothing a reader could tell apart. */
  name(key: string, maxBytes: number): string | undefined {
    const value = this.text(key, maxBytes);
    if (value === '') throw new RuleInvalid(this.path(key), `${this.path(key)} must not be empty`);
    return value;
  }

  integer(key: string, min: number, max: number): number | undefined {
    const value = this.value[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new RuleInvalid(this.path(key), `${this.path(key)} must be an integer from ${min} to ${max}`);
    }
    return value;
  }

  boolean(key: string): boolean | undefined {
    const value = this.value[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'boolean') throw new RuleInvalid(this.path(key), `${this.path(key)} must be a boolean value`);
    return value;
  }

  oneOf<V extends string>(key: string, values: readonly V[]): V | undefined {
    const value = this.value[key];
    if (value === undefined) return undefined;
    const found = values.find((candidate) => candidate === value);
    if (found === undefined) throw new RuleInvalid(this.path(key), `${this.path(key)} must be one of the following values: ${values.join(', ')}`);
    return found;
  }

  encoding(key: string): PayloadEncoding {
    return this.oneOf(key, PAYLOAD_ENCODINGS) ?? 'utf8';
  }

  object(key: string): SpecReader | undefined {
    const value = this.value[key];
    return value === undefined ? undefined : new SpecReader(value, this.path(key));
  }

  /** A list of objects, each read at its position (`rules[2].match`). */
  list(key: string, maxItems: number): SpecReader[] | undefined {
    const value = this.value[key];
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) throw new RuleInvalid(this.path(key), `${this.path(key)} must be an array`);
    if (value.length > maxItems) throw new RuleInvalid(this.path(key), `${this.path(key)} has ${value.length} items, over the limit of ${maxItems}`);
    return value.map((item, index) => new SpecReader(item, `${this.path(key)}[${index}]`));
  }
}
