import { TransformFnParams, TransformationType } from 'class-transformer';
import { defaultMetadataStorage } from 'class-transformer/cjs/storage';
import { ValidationArguments, ValidationTypes, getMetadataStorage } from 'class-validator';

type ValidationMetadata = ReturnType<ReturnType<typeof getMetadataStorage>['getTargetValidationMetadatas']>[number];
type ConstraintMetadata = ReturnType<ReturnType<typeof getMetadataStorage>['getTargetValidatorConstraints']>[number];
type Condition = (object: object, value: unknown) => boolean;
type Conversion = (params: TransformFnParams) => unknown;
/** A DTO class. */
export type DtoClass = new (...args: never[]) => object;

interface Check {
  metadata: ValidationMetadata;
  validators: ConstraintMetadata[];
}

interface PropertyRules {
  /** `@IsOptional()` and the like: when one says no, the property is not validated at all. */
  conditions: Condition[];
  checks: Check[];
}

/** Keys `ValidationPipe` strips before transforming; a value holding one takes the full path. */
const STRIPPED_KEYS = new Set(['__proto__', 'prototype', 'constructor']);

/**
 * Whether `value` is a plain object (or one without a prototype, as Fastify parses queries) of
 * strings, numbers, booleans and dense arrays of strings: what query strings and flat JSON bodies
 * hold. For such a value `ValidationPipe`'s preparation (nil to `{}`, closing array gaps,
 * stripping prototype keys, looking for binary values) changes nothing, so only
 * class-transformer and the validation remain.
 */
export function isFlatPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: object | null = Object.getPrototypeOf(value) as object | null;
  if (proto !== Object.prototype && proto !== null && !isBarePrototype(proto)) return false;
  for (const key of Object.keys(value)) {
    if (STRIPPED_KEYS.has(key)) return false;
    const item = (value as Record<string, unknown>)[key];
    const kind = typeof item;
    if (kind === 'string' || kind === 'number' || kind === 'boolean') continue;
    if (!Array.isArray(item)) return false;
    for (let i = 0; i < item.length; i++) if (typeof item[i] !== 'string') return false;
  }
  return true;
}

/**
 * A prototype with nothing on it and null behind it: Fastify's query objects (fast-querystring)
 * are made this way, a faster `Object.create(null)`.
 */
function isBarePrototype(proto: object): boolean {
  return Object.getPrototypeOf(proto) === null && Reflect.ownKeys(proto).length === 0;
}

/**
 * class-validator's verdict on an instance of one DTO class, worked out from the same metadata
 * and the same validator functions but without its per-call bookkeeping (it looks the class's
 * metadata up and groups it on every call, and builds an error object per property even when
 * nothing fails) — on the hot routes that bookkeeping cost more than the rest of the request.
 *
 * It answers only "valid" or "not sure": callers run class-validator itself whenever `accepts`
 * is false, so every error is still class-validator's own. It covers the options
 * `createValidationPipe` uses (whitelist, forbidNonWhitelisted, no groups) and synchronous
 * custom validators with optional conditions; a class using anything else (nested objects,
 * `@IsDefined`, async validators) has no plan and always takes the full path.
 */
export class ValidationPlan {
  private static readonly plans = new WeakMap<DtoClass, ValidationPlan | null>();

  private constructor(
    private readonly metatype: DtoClass,
    private readonly properties: ReadonlyMap<string, PropertyRules>,
    /** The class's `@Transform`s by property, or null when class-transformer itself must build instances. */
    private readonly conversions: ReadonlyMap<string, Conversion[]> | null,
  ) {}

  /** The plan for a DTO class, built on first use; null when the class needs the full path. */
  static for(metatype: DtoClass): ValidationPlan | null {
    let plan = ValidationPlan.plans.get(metatype);
    if (plan === undefined) {
      plan = ValidationPlan.build(metatype);
      ValidationPlan.plans.set(metatype, plan);
    }
    return plan;
  }

  private static build(metatype: DtoClass): ValidationPlan | null {
    const storage = getMetadataStorage();
    // The arguments class-validator's executor passes for `validate(object, options)` without groups.
    const metadatas = storage.getTargetValidationMetadatas(metatype, '', false, false, undefined);
    if (metadatas.length === 0) return null;
    const properties = new Map<string, PropertyRules>();
    for (const metadata of metadatas) {
      let rules = properties.get(metadata.propertyName);
      if (!rules) {
        rules = { conditions: [], checks: [] };
        properties.set(metadata.propertyName, rules);
      }
      switch (metadata.type) {
        case ValidationTypes.CONDITIONAL_VALIDATION:
          rules.conditions.push(metadata.constraints[0] as Condition);
          break;
        case ValidationTypes.CUSTOM_VALIDATION: {
          const validators = storage.getTargetValidatorConstraints(metadata.constraintCls);
          if (validators.some((validator) => validator.async)) return null;
          rules.checks.push({ metadata, validators });
          break;
        }
        case ValidationTypes.WHITELIST:
          break;
        default:
          return null;
      }
    }
    return new ValidationPlan(metatype, properties, ValidationPlan.conversionsOf(metatype, properties.keys()));
  }

  /**
   * The `@Transform`s class-transformer would run, from its own metadata, when they are all it
   * would do: none in groups, no `@Type`, `@Expose` or `@Exclude`. Null otherwise.
   */
  private static conversionsOf(metatype: DtoClass, properties: Iterable<string>): ReadonlyMap<string, Conversion[]> | null {
    const storage = defaultMetadataStorage;
    if (storage.getStrategy(metatype) !== 'none' || storage.getExposedMetadatas(metatype).length > 0 || storage.getExcludedMetadatas(metatype).length > 0) return null;
    const conversions = new Map<string, Conversion[]>();
    for (const property of properties) {
      if (storage.findTypeMetadata(metatype, property)) return null;
      const transforms = storage.findTransformMetadatas(metatype, property, TransformationType.PLAIN_TO_CLASS);
      if (transforms.some((transform) => (transform.options?.groups?.length ?? 0) > 0)) return null;
      if (transforms.length > 0) conversions.set(property, transforms.map((transform) => transform.transformFn));
    }
    return conversions;
  }

  /**
   * What `plainToInstance(metatype, value)` builds from a flat value (see `isFlatPlainObject`):
   * an instance with each field copied (arrays as new arrays) and run through its `@Transform`s
   * in order. class-transformer's own walk, which looks its metadata up for every field of every
   * call, cost more than the rest of the validation.
   */
  instantiate(value: Record<string, unknown>): Record<string, unknown> {
    const entity = new (this.metatype as unknown as new () => Record<string, unknown>)();
    for (const key of Object.keys(value)) {
      let item = value[key];
      if (Array.isArray(item)) item = [...(item as unknown[])];
      const conversions = this.conversions?.get(key);
      if (conversions) for (const convert of conversions) item = convert({ value: item, key, obj: value, type: TransformationType.PLAIN_TO_CLASS, options: {} });
      entity[key] = item;
    }
    return entity;
  }

  /** Whether `instantiate` stands for class-transformer on this class. */
  get instantiates(): boolean {
    return this.conversions !== null;
  }

  /** True only when class-validator would find no error in `object` (an instance of the planned class). */
  accepts(object: Record<string, unknown>): boolean {
    for (const key of Object.keys(object)) {
      if (!this.properties.has(key)) return false;
    }
    for (const [property, rules] of this.properties) {
      const value = object[property];
      if (!rules.conditions.every((condition) => condition(object, value))) continue;
      for (const { metadata, validators } of rules.checks) {
        if (metadata.validateIf && !metadata.validateIf(object, value)) continue;
        const args: ValidationArguments = { targetName: this.metatype.name, property, object, value, constraints: metadata.constraints };
        for (const validator of validators) {
          if (!this.passes(validator, value, args, metadata.each)) return false;
        }
      }
    }
    return true;
  }

  private passes(validator: ConstraintMetadata, value: unknown, args: ValidationArguments, each: boolean): boolean {
    if (value instanceof Set || value instanceof Map) return false;
    const values = each && Array.isArray(value) ? value : [value];
    // A promise (an async validator not declared as such) is left to class-validator.
    return values.every((item) => validator.instance.validate(item, args) === true);
  }
}
