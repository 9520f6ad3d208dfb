import { ApiProperty, ApiPropertyOptional, ExampleObject } from '@nestjs/swagger';
import { isIP } from 'node:net';
import { PAYLOAD_ENCODINGS } from '../sockets/payload-codec';
import { RECEIVE_MODES } from '../sockets/socket-types';

/**
 * The DTO field decorators: each states a field once, as a JSON Schema, and that one statement
 * feeds both the OpenAPI document (`@ApiProperty`) and the request validation (the route schema
 * `@Validated` builds with `schemaOf`, which Fastify's ajv checks). So the two cannot drift.
 */

/** A JSON Schema (draft-07, the dialect ajv speaks by default). */
export type JsonSchema = Record<string, unknown>;

/** A DTO class. */
export type DtoClass = abstract new (...args: never[]) => object;

/**
 * A check ajv has no keyword for (a canonical host, a label map), named in a schema as
 * `{"x-check": name}`. Registered by name so schemas stay plain data.
 */
export const CHECK_KEYWORD = 'x-check';
/** The message a failed `x-check`, `pattern` or `enum` reports instead of ajv's own. */
export const MESSAGE_KEYWORD = 'x-message';

const checks = new Map<string, (value: unknown) => boolean>();

/** Makes `check` available to schemas as `{"x-check": name}`. */
export function registerCheck(name: string, check: (value: unknown) => boolean): string {
  checks.set(name, check);
  return name;
}

/** The registered check of that name (the validator calls it). */
export function checkNamed(name: string): (value: unknown) => boolean {
  const check = checks.get(name);
  if (!check) throw new Error(`no check is registered as "${name}"`);
  return check;
}

interface FieldDoc {
  description: string;
  example?: unknown;
  default?: unknown;
  /** Named examples of a query parameter, instead of `example`; see `unsetFirst`. */
  examples?: Record<string, ExampleObject>;
}

interface FieldSpec {
  /** What the field holds: validated as it is, and shown in the OpenAPI document. */
  schema: JsonSchema;
  required: boolean;
  doc: FieldDoc;
  /** Keywords for validation only: checks (`x-check`), messages, and what OpenAPI 3.0 cannot say. */
  validation?: JsonSchema;
  /** The OpenAPI form when it differs from `schema` (a nested DTO as its class, for a `$ref`). */
  openApi?: Record<string, unknown>;
}

interface FieldRule {
  schema: JsonSchema;
  required: boolean;
}

const FIELDS = Symbol('sockplane:dto-fields');

function fieldsOf(prototype: object): ReadonlyMap<string, FieldRule> {
  return (Reflect.getMetadata(FIELDS, prototype) as ReadonlyMap<string, FieldRule> | undefined) ?? new Map<string, FieldRule>();
}

/** The OpenAPI part of a FieldDoc. */
function openApiDoc(doc: FieldDoc): Record<string, unknown> {
  const { description, example, default: defaultValue, examples } = doc;
  return Object.fromEntries(Object.entries({ description, example, default: defaultValue, examples }).filter(([, value]) => value !== undefined));
}

/** Declares a DTO field: its schema for validation (`schemaOf`) and its `@ApiProperty`. */
function Field(spec: FieldSpec): PropertyDecorator {
  return (prototype, key) => {
    const name = String(key);
    // A copy, so a subclass adds its fields without adding them to its parent's.
    const fields = new Map(fieldsOf(prototype));
    const defaultValue = spec.doc.default === undefined ? {} : { default: spec.doc.default };
    fields.set(name, { schema: { ...spec.schema, ...defaultValue, ...spec.validation }, required: spec.required });
    Reflect.defineMetadata(FIELDS, fields, prototype);
    const document = { ...(spec.openApi ?? spec.schema), ...openApiDoc(spec.doc) };
    (spec.required ? ApiProperty(document) : ApiPropertyOptional(document))(prototype, key);
  };
}

const objectSchemas = new WeakMap<DtoClass, JsonSchema>();

/** The JSON Schema of a DTO class: its fields, the required ones, and nothing else allowed. */
export function schemaOf(dto: DtoClass): JsonSchema {
  let schema = objectSchemas.get(dto);
  if (!schema) {
    const fields = [...fieldsOf(dto.prototype)];
    if (fields.length === 0) throw new Error(`${dto.name} declares no fields`);
    const required = fields.filter(([, rule]) => rule.required).map(([name]) => name);
    schema = {
      type: 'object',
      properties: Object.fromEntries(fields.map(([name, rule]) => [name, rule.schema])),
      ...(required.length > 0 ? { required } : {}),
      additionalProperties: false,
    };
    objectSchemas.set(dto, schema);
  }
  return schema;
}

/**
 * Named examples for an optional query parameter whose absence is the useful default (a filter, a
 * cursor, a start offset). Swagger UI fills each parameter with its first example and sends it, so
 * the first one has no value: Try it out then sends nothing, and the others are a pick away.
 */
export function unsetFirst(unset: string, examples: Record<string, ExampleObject>): Record<string, ExampleObject> {
  return { unset: { summary: unset }, ...examples };
}

const HOSTNAME_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;

/**
 * A canonical IP literal (`net.isIP`) or an RFC 1123 host name whose last label is not all
 * digits. That refuses `127.1`, `0x7f.0.0.1`, `017700000001` and `2130706433`, which the OS
 * resolver would quietly turn into 127.0.0.1.
 */
export function isCanonicalHost(value: unknown): boolean {
  if (typeof value !== 'string' || value.length === 0 || value.length > 253) return false;
  if (isIP(value) !== 0) return true;
  const labels = value.replace(/\.$/, '').split('.');
  return labels.every((label) => HOSTNAME_LABEL.test(label)) && !/^[0-9]+$/.test(labels[labels.length - 1]) && !/^0x/i.test(labels[labels.length - 1]);
}

/** A multicast group address: IPv4 224.0.0.0/4 or IPv6 ff00::/8, as an IP literal. */
export function isMulticastAddress(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  switch (isIP(value)) {
    case 4: {
      const first = Number(value.slice(0, value.indexOf('.')));
      return first >= 224 && first <= 239;
    }
    case 6:
      return /^ff[0-9a-f]{2}:/i.test(value);
    default:
      return false;
  }
}

const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/;

function isLabels(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const entries = Object.entries(value);
  return entries.length <= 32 && entries.every(([key, v]) => LABEL_KEY.test(key) && typeof v === 'string' && v.length <= 256);
}

const CANONICAL_HOST = registerCheck('canonical-host', isCanonicalHost);
const BIND_HOST = registerCheck('bind-host', (value) => value === 'localhost' || (typeof value === 'string' && isIP(value) !== 0));
const MULTICAST_ADDRESS = registerCheck('multicast-address', isMulticastAddress);
const INTERFACE_ADDRESS = registerCheck('interface-address', (value) => typeof value === 'string' && isIP(value) !== 0);
const LABELS = registerCheck('labels', isLabels);

/** A check with the message it fails with. */
function checked(check: string, message: string): JsonSchema {
  return { [CHECK_KEYWORD]: check, [MESSAGE_KEYWORD]: message };
}

/** A host to connect to or send to: IP literal or host name, canonical forms only. */
export function IsHost(doc: FieldDoc & { required?: boolean }): PropertyDecorator {
  return (prototype, key) =>
    Field({
      schema: { type: 'string', maxLength: 253 },
      required: doc.required ?? true,
      doc,
      validation: checked(CANONICAL_HOST, `${String(key)} must be an IP address in canonical form or a valid host name`),
    })(prototype, key);
}

/** A local address to bind: an IP literal or `localhost`. */
export function IsBindHost(doc: FieldDoc): PropertyDecorator {
  return (prototype, key) =>
    Field({
      schema: { type: 'string' },
      required: false,
      doc,
      validation: checked(BIND_HOST, `${String(key)} must be an IP address (e.g. 127.0.0.1, ::1, 0.0.0.0, ::) or "localhost"`),
    })(prototype, key);
}

/** Multicast groups to join: distinct group addresses, at most 20. */
export function IsMulticastGroups(doc: FieldDoc): PropertyDecorator {
  return (prototype, key) =>
    Field({
      schema: { type: 'array', maxItems: 20, uniqueItems: true, items: { type: 'string' } },
      required: false,
      doc,
      validation: { items: { type: 'string', ...checked(MULTICAST_ADDRESS, `each of ${String(key)} must be a multicast address (224.0.0.0/4 or ff00::/8)`) } },
    })(prototype, key);
}

/** A local interface address; an IPv6 one may name its zone (`::%eth0`, `fe80::1%2`). */
export function IsInterfaceAddress(doc: FieldDoc): PropertyDecorator {
  return (prototype, key) =>
    Field({
      schema: { type: 'string', maxLength: 64 },
      required: false,
      doc,
      validation: checked(INTERFACE_ADDRESS, `${String(key)} must be a local IP address (IPv6 may add %zone)`),
    })(prototype, key);
}

/** A nested object (optional unless `required`), validated as its own DTO class. */
export function IsNestedObject(type: new () => object, doc: FieldDoc & { required?: boolean }): PropertyDecorator {
  return Field({ schema: schemaOf(type), required: doc.required ?? false, doc, openApi: { type } });
}

/** A number in a body, whole or not (a probability). */
export function IsNumberField(doc: FieldDoc & { min: number; max: number }): PropertyDecorator {
  return Field({ schema: { type: 'number', minimum: doc.min, maximum: doc.max }, required: false, doc });
}

/** An object of up to 16 number or string values, whose keys the service checks itself (a fault's attributes, which depend on its type). */
export function IsValueMap(doc: FieldDoc): PropertyDecorator {
  return Field({
    schema: { type: 'object', maxProperties: 16, additionalProperties: { anyOf: [{ type: 'number' }, { type: 'string', maxLength: 64 }] } },
    openApi: { type: 'object', additionalProperties: { oneOf: [{ type: 'number' }, { type: 'string', maxLength: 64 }] } },
    required: false,
    doc,
  });
}

/** A port number; `allowZero` for binds, where 0 asks the kernel for a free port. */
export function IsPort(doc: FieldDoc & { allowZero: boolean; required?: boolean }): PropertyDecorator {
  return Field({ schema: { type: 'integer', minimum: doc.allowZero ? 0 : 1, maximum: 65535 }, required: doc.required ?? true, doc });
}

/** An integer in a body (JSON numbers only). */
export function IsIntegerField(doc: FieldDoc & { min: number; max: number }): PropertyDecorator {
  return Field({ schema: { type: 'integer', minimum: doc.min, maximum: doc.max }, required: false, doc });
}

export function IsBooleanField(doc: FieldDoc): PropertyDecorator {
  return Field({ schema: { type: 'boolean' }, required: false, doc });
}

/**
 * An integer in a query string: refused unless it is a whole number in range (the text is
 * converted before validation, see `route-validation.ts`). Without `max`, any whole number from
 * `min` on (a long-poll's `waitMs`, which the service cuts to its maximum).
 */
export function IsIntegerQuery(doc: FieldDoc & { min: number; max?: number; required?: boolean }): PropertyDecorator {
  const maximum = doc.max === undefined ? {} : { maximum: doc.max };
  return Field({ schema: { type: 'integer', minimum: doc.min, ...maximum }, required: doc.required ?? false, doc });
}

/**
 * A long-poll's `waitMs`: any whole number of milliseconds, cut to the server's maximum
 * (SOCKPLANE_MAX_WAIT_MS) rather than refused, so a client need not know the setting.
 */
export function IsWaitMs(doc: { description: string }): PropertyDecorator {
  return IsIntegerQuery({
    min: 0,
    default: 0,
    example: 5000,
    description: `${doc.description}. A longer wait is cut to the server's maximum, SOCKPLANE_MAX_WAIT_MS (60,000 ms unless configured)`,
  });
}

/** `true` or `false` in a query string. */
export function IsBooleanQuery(doc: FieldDoc): PropertyDecorator {
  return Field({ schema: { type: 'boolean' }, required: false, doc });
}

/**
 * A string in a query or body, of bounded length, optionally of a given pattern (with the message
 * it fails with); `writeOnly` marks a secret the service takes and never answers (a private key).
 */
export function IsText(
  doc: FieldDoc & { minLength?: number; maxLength?: number; required?: boolean; writeOnly?: boolean; pattern?: { source: string; message: string } },
): PropertyDecorator {
  const minLength = doc.minLength === undefined ? {} : { minLength: doc.minLength };
  const maxLength = doc.maxLength === undefined ? {} : { maxLength: doc.maxLength };
  const schema = { type: 'string', ...minLength, ...maxLength };
  return Field({
    schema,
    openApi: doc.writeOnly === true ? { ...schema, writeOnly: true } : undefined,
    required: doc.required ?? false,
    doc,
    validation: doc.pattern ? { pattern: doc.pattern.source, [MESSAGE_KEYWORD]: doc.pattern.message } : undefined,
  });
}

/** A resource's name, unique per owner among resources of its kind: letters, digits, dots, dashes and underscores. */
export function IsResourceName(doc: FieldDoc & { required?: boolean }): PropertyDecorator {
  return (prototype, key) =>
    IsText({
      ...doc,
      maxLength: 128,
      pattern: { source: '^[A-Za-z0-9][A-Za-z0-9._-]*$', message: `${String(key)} must be letters, digits, dots, dashes and underscores, starting with a letter or digit` },
    })(prototype, key);
}

/** One of a fixed set of strings (or numbers, or both: a length field is 1, 2, 3, 4, 8 bytes or `varint`). */
export function IsOneOf(values: readonly (string | number)[], doc: FieldDoc & { required?: boolean }): PropertyDecorator {
  const types = [...new Set(values.map((value) => (typeof value === 'number' ? 'integer' : 'string')))];
  if (types.length === 1) return Field({ schema: { type: types[0], enum: [...values] }, required: doc.required ?? false, doc });
  // The enum alone says which values of which types are taken; OpenAPI 3.0 has no type list, so its document names the types in a oneOf.
  return Field({ schema: { enum: [...values] }, required: doc.required ?? false, doc, openApi: { oneOf: types.map((type) => ({ type })), enum: [...values] } });
}

/** A list of strings in a body, each of bounded length. */
export function IsTextList(doc: FieldDoc & { minItems: number; maxItems: number; maxLength: number }): PropertyDecorator {
  return Field({ schema: { type: 'array', minItems: doc.minItems, maxItems: doc.maxItems, items: { type: 'string', minLength: 1, maxLength: doc.maxLength } }, required: false, doc });
}

/** An optional list of nested objects, each validated as its own DTO class. */
export function IsNestedList(type: new () => object, doc: FieldDoc & { minItems: number; maxItems: number }): PropertyDecorator {
  return Field({ schema: { type: 'array', minItems: doc.minItems, maxItems: doc.maxItems, items: schemaOf(type) }, required: false, doc, openApi: { type: [type] } });
}

/**
 * An object (or a list of up to `maxItems` objects) that whatever builds the domain object from
 * it checks in full, the OpenAPI document showing it as `type`: a condition made of conditions
 * (a route schema cannot unfold a class into itself), or another tool's format checked in that
 * tool's terms. The route schema checks only that it is an object.
 */
export function IsLooseObject(type: () => DtoClass, doc: FieldDoc & { maxItems?: number }): PropertyDecorator {
  // @nestjs/swagger takes a function named `type` for a type resolved later (a class that refers to itself).
  const lazy = { type: () => type() };
  if (doc.maxItems === undefined) return Field({ schema: { type: 'object' }, required: false, doc, openApi: lazy });
  return Field({ schema: { type: 'array', maxItems: doc.maxItems, items: { type: 'object' } }, required: false, doc, openApi: { ...lazy, isArray: true } });
}

export function IsEncoding(doc: FieldDoc): PropertyDecorator {
  return IsOneOf(PAYLOAD_ENCODINGS, { default: 'utf8', example: 'utf8', ...doc });
}

export function IsReceiveMode(doc: FieldDoc): PropertyDecorator {
  return IsOneOf(RECEIVE_MODES, { default: 'buffer', example: 'buffer', ...doc });
}

/** Free-form string labels to find resources by (`label=key:value` in list queries). */
export function IsLabels(): PropertyDecorator {
  return (prototype, key) =>
    Field({
      schema: { type: 'object' },
      openApi: { type: 'object', additionalProperties: { type: 'string', maxLength: 256 } },
      required: false,
      doc: {
        description: 'Up to 32 labels; keys are 1-63 characters of letters, digits and . _ / -, values are strings of at most 256 characters',
        example: { demo: 'tutorial' },
        default: {},
      },
      validation: checked(LABELS, `${String(key)} must map up to 32 keys (letters, digits, . _ / -) to strings of at most 256 characters`),
    })(prototype, key);
}

/**
 * A query parameter that may be repeated (`?type=a&type=b`; one value arrives as a string and is
 * taken as a list of one), at most 32 values, each matching `item`.
 */
export function IsRepeatable(doc: FieldDoc, item: JsonSchema, itemMessage: string, itemCheck?: string): PropertyDecorator {
  const check = itemCheck === undefined ? {} : { [CHECK_KEYWORD]: itemCheck };
  return Field({
    schema: { type: 'array', maxItems: 32, items: item },
    required: false,
    doc,
    validation: { items: { ...item, ...check, [MESSAGE_KEYWORD]: itemMessage } },
  });
}

/** Repeatable `label=key:value` selectors in a query string. */
export function IsLabelSelector(): PropertyDecorator {
  return IsRepeatable(
    {
      description: 'Only resources carrying this label, as `key:value`; repeat for several (all must match)',
      examples: unsetFirst('Any labels', { tutorial: { summary: 'Labelled demo=tutorial, as the examples create them', value: ['demo:tutorial'] } }),
    },
    { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}:.{0,256}$' },
    'label must look like key:value',
  );
}

/** Parses validated `key:value` selectors into a label map. */
export function parseLabelSelector(selectors: string[] | undefined): Record<string, string> | undefined {
  if (!selectors) return undefined;
  return Object.fromEntries(selectors.map((s) => [s.slice(0, s.indexOf(':')), s.slice(s.indexOf(':') + 1)]));
}

export function IsCursor(): PropertyDecorator {
  return IsText({
    maxLength: 64,
    description: 'The `nextCursor` of the previous page; without it, the first page',
    examples: unsetFirst('First page', { next: { summary: 'A nextCursor as a list answers it', value: 'czE' } }),
  });
}
