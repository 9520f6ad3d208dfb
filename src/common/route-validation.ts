import { RouteSchema } from '@nestjs/platform-fastify';
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import { FastifyInstance, FastifySchema } from 'fastify';
import { ApiProblem, FieldError } from './api-problem';
import { RawBody } from './raw-body';
import { CHECK_KEYWORD, DtoClass, JsonSchema, MESSAGE_KEYWORD, checkNamed, schemaOf } from './validation';

/**
 * Request validation through Fastify's route schemas: a route names its DTOs with `@Validated`,
 * and Fastify runs the compiled checks before the handler, as part of routing. Unknown fields
 * are refused, defaults filled in, and a failure answers 400 VALIDATION_FAILED with one message
 * per offending field.
 */

/** Marks a body schema whose route also takes raw `application/octet-stream` bodies. */
const RAW_BODY_KEYWORD = 'x-raw-body';

/** What a Fastify validator may answer: pass, or the error to answer with. */
type Verdict = true | { error: ApiProblem } | { value: Record<string, unknown> };

function createAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, coerceTypes: false, removeAdditional: false, verbose: true });
  ajv.addKeyword({ keyword: MESSAGE_KEYWORD, schemaType: 'string' });
  ajv.addKeyword({ keyword: CHECK_KEYWORD, schemaType: 'string', errors: false, validate: (name: string, value: unknown) => checkNamed(name)(value) });
  return ajv;
}

const ajv = createAjv();

/** Routes validate through `compileValidator`; call before the routes are registered (`app.init()`). */
export function registerValidation(fastify: FastifyInstance): void {
  fastify.setValidatorCompiler(({ schema, httpPart }) => compileValidator(schema as JsonSchema, httpPart));
}

/**
 * The route schema of an operation: its query and JSON body DTOs. With `rawBody`, an
 * `application/octet-stream` body passes unvalidated (as the `RawBody` it arrived in); without,
 * it is refused as 415.
 */
export function Validated(parts: { query?: DtoClass; body?: DtoClass; rawBody?: boolean }): MethodDecorator {
  const schema: FastifySchema = {};
  if (parts.query) schema.querystring = schemaOf(parts.query);
  if (parts.body) schema.body = { ...schemaOf(parts.body), [RAW_BODY_KEYWORD]: parts.rawBody ?? false };
  return RouteSchema(schema);
}

const bodyValidators = new WeakMap<DtoClass, ValidateFunction>();

/**
 * Validates `value` as a JSON body of `dto` is validated (unknown fields refused, defaults filled
 * in, in place), for bodies that arrive another way than a request: a file read at start.
 * Throws the 400 VALIDATION_FAILED problem a request would get.
 */
export function validateAs(dto: DtoClass, value: unknown): void {
  let validate = bodyValidators.get(dto);
  if (!validate) {
    validate = ajv.compile(schemaOf(dto));
    bodyValidators.set(dto, validate);
  }
  if (!validate(value)) throw validationProblem(validate, 'body');
}

function compileValidator(schema: JsonSchema, httpPart: string | undefined): (value: unknown) => Verdict {
  if (httpPart === 'body') {
    const { [RAW_BODY_KEYWORD]: rawBody, ...json } = schema;
    const validate = ajv.compile(json);
    return (value) => {
      if (value instanceof RawBody) {
        return rawBody === true ? true : { error: new ApiProblem('UNSUPPORTED_MEDIA_TYPE', 'this operation takes an application/json body') };
      }
      return validate(value) ? true : { error: validationProblem(validate, 'body') };
    };
  }
  if (httpPart === 'querystring') {
    const validate = ajv.compile(schema);
    const convert = queryConversion(schema);
    return (value) => {
      const query = convert(value as Record<string, unknown>);
      return validate(query) ? { value: query } : { error: validationProblem(validate, 'query') };
    };
  }
  throw new Error(`request validation covers bodies and query strings, not ${httpPart}`);
}

type Conversion = (text: unknown) => unknown;

const INTEGER_TEXT = /^-?\d+$/;
const toInteger: Conversion = (text) => (typeof text === 'string' && INTEGER_TEXT.test(text) ? Number(text) : text);
const toBoolean: Conversion = (text) => (text === 'true' ? true : text === 'false' ? false : text);
const toList: Conversion = (text) => (typeof text === 'string' ? [text] : text);

/**
 * A query string holds text: whole numbers become numbers, `true` and `false` booleans, and a
 * parameter that may repeat becomes a list even when it came once. Anything else stays text, and
 * the schema then refuses it ("must be an integer number"), so `1.5`, `0x10`, ` 5` or `1e3` are
 * no number here.
 */
function queryConversion(schema: JsonSchema): (query: Record<string, unknown>) => Record<string, unknown> {
  const conversions = new Map<string, Conversion>();
  for (const [name, property] of Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>)) {
    if (property.type === 'integer') conversions.set(name, toInteger);
    else if (property.type === 'boolean') conversions.set(name, toBoolean);
    else if (property.type === 'array') conversions.set(name, toList);
  }
  return (query) => {
    const converted: Record<string, unknown> = {};
    for (const name of Object.keys(query)) {
      const conversion = conversions.get(name);
      converted[name] = conversion ? conversion(query[name]) : query[name];
    }
    return converted;
  };
}

function validationProblem(validate: ValidateFunction, part: 'body' | 'query'): ApiProblem {
  const byField = new Map<string, string>();
  for (const error of validate.errors ?? []) {
    const field = fieldOf(error, part);
    if (!byField.has(field)) byField.set(field, messageOf(error, field));
  }
  const errors: FieldError[] = [...byField].map(([field, message]) => ({ field, message }));
  return new ApiProblem('VALIDATION_FAILED', errors.map((e) => e.message).join('; '), {}, errors);
}

/**
 * The field an error is about: dotted for nested objects, a body's list positions in brackets
 * (`rules[0].then[1].delayMs`), as the rule compiler names them. A query parameter is named
 * as it is written, whichever of its repeats is wrong.
 */
function fieldOf(error: ErrorObject, part: 'body' | 'query'): string {
  const segments = error.instancePath
    .split('/')
    .slice(1)
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'));
  if (error.keyword === 'required') segments.push(String(error.params.missingProperty));
  if (error.keyword === 'additionalProperties') segments.push(String(error.params.additionalProperty));
  let field = '';
  for (const segment of segments) field += /^\d+$/.test(segment) ? (part === 'query' ? '' : `[${segment}]`) : field === '' ? segment : `.${segment}`;
  return field === '' ? part : field;
}

const TYPE_NAMES: Record<string, string> = {
  integer: 'an integer number',
  number: 'a number',
  boolean: 'a boolean value',
  string: 'a string',
  object: 'an object',
  array: 'an array',
};

function messageOf(error: ErrorObject, field: string): string {
  const own = (error.parentSchema as JsonSchema | undefined)?.[MESSAGE_KEYWORD];
  const { params } = error;
  switch (error.keyword) {
    case 'required':
      return `${field} is required`;
    case 'additionalProperties':
      return `property ${field} should not exist`;
    case 'type':
      if (field === 'body') return 'the body must be a JSON object';
      return `${field} must be ${TYPE_NAMES[String(params.type)] ?? String(params.type)}`;
    case 'minimum':
      return `${field} must not be less than ${String(params.limit)}`;
    case 'maximum':
      return `${field} must not be greater than ${String(params.limit)}`;
    case 'minLength':
      return `${field} must be longer than or equal to ${String(params.limit)} characters`;
    case 'maxLength':
      return `${field} must be shorter than or equal to ${String(params.limit)} characters`;
    case 'minItems':
      return `${field} must contain at least ${String(params.limit)} elements`;
    case 'maxItems':
      return `${field} must contain no more than ${String(params.limit)} elements`;
    case 'uniqueItems':
      return `all ${field}'s elements must be unique`;
    case 'enum':
      return typeof own === 'string' ? own : `${field} must be one of the following values: ${(params.allowedValues as unknown[]).join(', ')}`;
    default:
      return typeof own === 'string' ? own : `${field} ${error.message ?? 'is not valid'}`;
  }
}
