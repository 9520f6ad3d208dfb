import { ArgumentMetadata, ValidationError, ValidationPipe, applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ExampleObject } from '@nestjs/swagger';
import { ClassConstructor, Transform, Type, plainToInstance } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateBy,
  ValidateNested,
  ValidationOptions,
} from 'class-validator';
import { isIP } from 'node:net';
import { PAYLOAD_ENCODINGS } from '../sockets/payload-codec';
import { RECEIVE_MODES } from '../sockets/socket-types';
import { ApiProblem, FieldError } from './api-problem';
import { RawBody } from './raw-body';
import { ValidationPlan, isFlatPlainObject } from './validation-plan';

/**
 * Validates bodies and queries against their DTO: unknown fields are refused, strings in
 * queries become numbers and booleans, and a body must be a JSON object.
 */
class DtoValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && metadata.metatype && metadata.metatype !== Object) {
      if (value instanceof RawBody) {
        throw new ApiProblem('UNSUPPORTED_MEDIA_TYPE', 'this operation takes an application/json body');
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new ApiProblem('VALIDATION_FAILED', 'the body must be a JSON object', {}, [{ field: 'body', message: 'the body must be a JSON object' }]);
      }
    }
    return this.transformValid(value, metadata) ?? super.transform(value, metadata);
  }

  /**
   * The fast path for the common case, a flat query or body that is valid: the same
   * class-transformer call `ValidationPipe` makes, then the DTO's validation plan. Undefined
   * when the plan cannot vouch for the value; the full pipe then answers, errors included.
   */
  private transformValid(value: unknown, metadata: ArgumentMetadata): object | undefined {
    const { metatype } = metadata;
    if ((metadata.type !== 'body' && metadata.type !== 'query') || !metatype || !this.toValidate(metadata) || !isFlatPlainObject(value)) return undefined;
    const plan = ValidationPlan.for(metatype);
    if (!plan) return undefined;
    const entity = plan.instantiates ? plan.instantiate(value) : plainToInstance(metatype as ClassConstructor<Record<string, unknown>>, value);
    return plan.accepts(entity) ? entity : undefined;
  }
}

/** The validation of DTO bodies and queries (`VALIDATION` below is the app's one instance). */
export function createValidationPipe(): ValidationPipe {
  return new DtoValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) => {
      const fields = flattenErrors(errors);
      return new ApiProblem('VALIDATION_FAILED', fields.map((e) => e.message).join('; '), {}, fields);
    },
  });
}

/**
 * The pipe every DTO body and query parameter names, `@Body(VALIDATION)` and `@Query(VALIDATION)`
 * (and `PayloadBodyPipe` for the JSON form of raw-or-JSON bodies):
 * per parameter rather than global, so the parameters with nothing to validate (ids, the caller,
 * the client-gone signal) skip Nest's pipe chain, about 1.4 µs of a 30 µs send (bench/README.md,
 * fix 22). A test sends every operation an unknown field, so a parameter without it fails.
 */
export const VALIDATION = createValidationPipe();

function flattenErrors(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flattenErrors(error.children ?? [], field)];
  });
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

interface FieldDoc {
  description: string;
  example?: unknown;
  default?: unknown;
  /** Named examples of a query parameter, instead of `example`; see `unsetFirst`. */
  examples?: Record<string, ExampleObject>;
}

/**
 * Named examples for an optional query parameter whose absence is the useful default (a filter, a
 * cursor, a start offset). Swagger UI fills each parameter with its first example and sends it, so
 * the first one has no value: Try it out then sends nothing, and the others are a pick away.
 */
export function unsetFirst(unset: string, examples: Record<string, ExampleObject>): Record<string, ExampleObject> {
  return { unset: { summary: unset }, ...examples };
}

/** The OpenAPI part of a FieldDoc; validator settings (min, max, allowZero, required) are no OpenAPI keywords. */
function openApiDoc(doc: FieldDoc): Record<string, unknown> {
  const { description, example, default: defaultValue, examples } = doc;
  return Object.fromEntries(Object.entries({ description, example, default: defaultValue, examples }).filter(([, value]) => value !== undefined));
}

function docs(required: boolean, options: Record<string, unknown>): PropertyDecorator {
  return required ? ApiProperty(options) : ApiPropertyOptional(options);
}

function optionality(required: boolean): PropertyDecorator[] {
  return required ? [] : [IsOptional()];
}

/** A host to connect to or send to: IP literal or host name, canonical forms only. */
export function IsHost(doc: FieldDoc & { required?: boolean }): PropertyDecorator {
  const required = doc.required ?? true;
  return applyDecorators(
    docs(required, { type: String, maxLength: 253, ...openApiDoc(doc) }),
    ...optionality(required),
    ValidateBy({
      name: 'isCanonicalHost',
      validator: {
        validate: isCanonicalHost,
        defaultMessage: (args) => `${args?.property} must be an IP address in canonical form or a valid host name`,
      },
    }),
  );
}

/** A local address to bind: an IP literal or `localhost`. */
export function IsBindHost(doc: FieldDoc): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ type: String, ...openApiDoc(doc) }),
    IsOptional(),
    ValidateBy({
      name: 'isBindHost',
      validator: {
        validate: (value) => value === 'localhost' || (typeof value === 'string' && isIP(value) !== 0),
        defaultMessage: (args) => `${args?.property} must be an IP address (e.g. 127.0.0.1, ::1, 0.0.0.0, ::) or "localhost"`,
      },
    }),
  );
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

/** Multicast groups to join: distinct group addresses, at most 20. */
export function IsMulticastGroups(doc: FieldDoc): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ type: [String], maxItems: 20, ...openApiDoc(doc) }),
    IsOptional(),
    IsArray(),
    ArrayMaxSize(20),
    ArrayUnique(),
    ValidateBy(
      {
        name: 'isMulticastAddress',
        validator: {
          validate: isMulticastAddress,
          defaultMessage: (args) => `each of ${args?.property} must be a multicast address (224.0.0.0/4 or ff00::/8)`,
        },
      },
      { each: true },
    ),
  );
}

/** A local interface address; an IPv6 one may name its zone (`::%eth0`, `fe80::1%2`). */
export function IsInterfaceAddress(doc: FieldDoc): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ type: String, ...openApiDoc(doc) }),
    IsOptional(),
    ValidateBy({
      name: 'isInterfaceAddress',
      validator: {
        validate: (value) => typeof value === 'string' && value.length <= 64 && isIP(value) !== 0,
        defaultMessage: (args) => `${args?.property} must be a local IP address (IPv6 may add %zone)`,
      },
    }),
  );
}

/** An optional nested object, validated as its own DTO class. */
export function IsNestedObject(type: new () => object, doc: FieldDoc): PropertyDecorator {
  return applyDecorators(ApiPropertyOptional({ type, ...openApiDoc(doc) }), IsOptional(), ValidateNested(), Type(() => type));
}

/** A port number; `allowZero` for binds, where 0 asks the kernel for a free port. */
export function IsPort(doc: FieldDoc & { allowZero: boolean; required?: boolean }): PropertyDecorator {
  const required = doc.required ?? true;
  const min = doc.allowZero ? 0 : 1;
  return applyDecorators(docs(required, { type: Number, minimum: min, maximum: 65535, ...openApiDoc(doc) }), ...optionality(required), IsInt(), Min(min), Max(65535));
}

/** An integer in a body (JSON numbers only). */
export function IsIntegerField(doc: FieldDoc & { min: number; max: number }): PropertyDecorator {
  return applyDecorators(ApiPropertyOptional({ type: Number, minimum: doc.min, maximum: doc.max, ...openApiDoc(doc) }), IsOptional(), IsInt(), Min(doc.min), Max(doc.max));
}

export function IsBooleanField(doc: FieldDoc): PropertyDecorator {
  return applyDecorators(ApiPropertyOptional({ type: Boolean, ...openApiDoc(doc) }), IsOptional(), IsBoolean());
}

/** An integer in a query string: converted from text, refused unless it is a whole number in range. */
export function IsIntegerQuery(doc: FieldDoc & { min: number; max: number; required?: boolean }): PropertyDecorator {
  const required = doc.required ?? false;
  return applyDecorators(
    docs(required, { type: Number, minimum: doc.min, maximum: doc.max, ...openApiDoc(doc) }),
    ...optionality(required),
    Transform(({ value }) => (typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value)),
    IsInt(),
    Min(doc.min),
    Max(doc.max),
  );
}

/** `true` or `false` in a query string. */
export function IsBooleanQuery(doc: FieldDoc): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ type: Boolean, ...openApiDoc(doc) }),
    IsOptional(),
    Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value)),
    IsBoolean(),
  );
}

/** One of a fixed set of strings. */
export function IsOneOf(values: readonly (string | number)[], doc: FieldDoc & { required?: boolean }): PropertyDecorator {
  const required = doc.required ?? false;
  const type = typeof values[0] === 'number' ? Number : String;
  return applyDecorators(docs(required, { enum: values, type, ...openApiDoc(doc) }), ...optionality(required), IsIn([...values]));
}

export function IsEncoding(doc: FieldDoc): PropertyDecorator {
  return IsOneOf(PAYLOAD_ENCODINGS, { default: 'utf8', example: 'utf8', ...doc });
}

export function IsReceiveMode(doc: FieldDoc): PropertyDecorator {
  return IsOneOf(RECEIVE_MODES, { default: 'buffer', example: 'buffer', ...doc });
}

const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/;

function isLabels(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const entries = Object.entries(value);
  return entries.length <= 32 && entries.every(([key, v]) => LABEL_KEY.test(key) && typeof v === 'string' && v.length <= 256);
}

/** Free-form string labels to find resources by (`label=key:value` in list queries). */
export function IsLabels(options?: ValidationOptions): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      type: 'object',
      additionalProperties: { type: 'string', maxLength: 256 },
      description: 'Up to 32 labels; keys are 1-63 characters of letters, digits and . _ / -, values are strings of at most 256 characters',
      example: { demo: 'tutorial' },
    }),
    IsOptional(),
    ValidateBy(
      {
        name: 'isLabels',
        validator: {
          validate: isLabels,
          defaultMessage: (args) => `${args?.property} must map up to 32 keys (letters, digits, . _ / -) to strings of at most 256 characters`,
        },
      },
      options,
    ),
  );
}

/** Repeatable `label=key:value` selectors in a query string. */
export function IsLabelSelector(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      type: [String],
      description: 'Only resources carrying this label, as `key:value`; repeat for several (all must match)',
      examples: unsetFirst('Any labels', { tutorial: { summary: 'Labelled demo=tutorial, as the examples create them', value: ['demo:tutorial'] } }),
    }),
    IsOptional(),
    Transform(({ value }) => (typeof value === 'string' ? [value] : value)),
    IsArray(),
    ArrayMaxSize(32),
    IsString({ each: true }),
    Matches(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}:.{0,256}$/, { each: true, message: 'label must look like key:value' }),
  );
}

/** Parses validated `key:value` selectors into a label map. */
export function parseLabelSelector(selectors: string[] | undefined): Record<string, string> | undefined {
  if (!selectors) return undefined;
  return Object.fromEntries(selectors.map((s) => [s.slice(0, s.indexOf(':')), s.slice(s.indexOf(':') + 1)]));
}

export function IsCursor(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      type: String,
      description: 'The `nextCursor` of the previous page; without it, the first page',
      examples: unsetFirst('First page', { next: { summary: 'A nextCursor as a list answers it', value: 'czE' } }),
    }),
    IsOptional(),
    IsString(),
    MaxLength(64),
  );
}
