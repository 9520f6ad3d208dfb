import { Injectable } from '@nestjs/common';
import { randomInt } from 'node:crypto';
import { Caller } from '../auth/caller';
import { ApiProblem } from '../common/api-problem';
import { FaultChange, FaultSpec, FaultTrigger, FrameTrigger, parseCidr } from '../sockets/faults/fault';
import { compileMatch } from '../sockets/rules/match';
import { MatchSpec, RuleLimits } from '../sockets/rules/rule-spec';
import { RuleInvalid, SpecReader } from '../sockets/rules/spec-reader';
import { RuleSettings } from '../config/app-config';
import { FaultEngine } from '../sockets/faults/fault-engine';
import { TcpProxies } from '../sockets/proxy/tcp-proxies';
import { parseAttributes } from '../sockets/faults/fault-types';
import { ChangeFaultDto, CreateFaultDto, FaultTriggerDto, InlineFaultDto, ReplaceFaultsDto } from './dto/create-fault.dto';
import { FaultDto, FaultListDto, FaultPageDto, toFaultDto } from './dto/fault.dto';
import { ListFaultsQueryDto } from './dto/list-faults.dto';

const ID_SHAPE = /^(tp|up|tl|tc)_[0-9a-z]{1,40}$/;

/** What bounds a match pattern in a trigger: the reply rules' pattern limit. */
export type MatchLimits = Pick<RuleLimits, 'maxPatternBytes'>;

/** What a fault's `onFrame` pattern may weigh: the reply rules' limit. */
export function matchLimitsOf(settings: RuleSettings): MatchLimits {
  return { maxPatternBytes: settings.rulesMaxPatternBytes };
}

/** Translates fault requests into the fault engine's specs and its faults back into representations. */
@Injectable()
export class FaultsService {
  constructor(
    private readonly engine: FaultEngine,
    private readonly proxies: TcpProxies,
    private readonly settings: RuleSettings,
  ) {}

  private get matchLimits(): MatchLimits {
    return matchLimitsOf(this.settings);
  }

  create(dto: CreateFaultDto, caller: Caller): FaultDto {
    return this.toDto(this.engine.create(toFaultSpec(dto, this.targetId(dto.target, caller), '', this.matchLimits), caller.owner).id);
  }

  list(query: ListFaultsQueryDto, caller: Caller): FaultPageDto {
    const page = this.engine.list({ owner: caller.scope, target: query.target }, query.limit, query.cursor);
    return { items: page.items.map((fault) => this.toDto(fault.id)), nextCursor: page.nextCursor };
  }

  get(id: string, caller: Caller): FaultDto {
    return this.toDto(this.engine.get(id, caller.scope).id);
  }

  change(id: string, dto: ChangeFaultDto, caller: Caller): FaultDto {
    const fault = this.engine.get(id, caller.scope);
    const change: FaultChange = {
      direction: dto.direction,
      attributes: dto.attributes === undefined ? undefined : attributesOf(fault.spec.type, dto.attributes),
      probability: dto.probability,
      trigger: dto.trigger && triggerOf(dto.trigger, this.matchLimits),
      expiresAfterMs: dto.expiresAfterMs,
    };
    return this.toDto(this.engine.change(id, change, caller.scope).id);
  }

  remove(id: string, caller: Caller): FaultDto {
    const fault = this.engine.remove(id, caller.scope);
    return toFaultDto(fault, [], 0);
  }

  replaceAll(dto: ReplaceFaultsDto, caller: Caller): FaultListDto {
    const specs = (dto.faults ?? []).map((fault, index) => toFaultSpec(fault, this.targetId(fault.target, caller), `faults[${index}].`, this.matchLimits));
    return { items: this.engine.replaceAll(specs, caller.owner).map((fault) => this.toDto(fault.id)) };
  }

  /** A target given by id as it is; a proxy's name as its id (unknown names stay as given, and the engine answers 404). */
  private targetId(target: string, caller: Caller): string {
    return ID_SHAPE.test(target) ? target : (this.proxies.findByName(target, caller.scope)?.id ?? target);
  }

  private toDto(id: string): FaultDto {
    return toFaultDto(this.engine.get(id), this.engine.placedOn(id), this.engine.heldBytesOf(id));
  }
}

/** A fault request as the engine's spec: attributes checked against its type, defaults filled in, a seed drawn when none was given. */
export function toFaultSpec(dto: InlineFaultDto, target: string, fieldPrefix: string, matchLimits: MatchLimits): FaultSpec {
  const cidr = dto.select?.remoteCidr;
  if (cidr !== undefined && parseCidr(cidr) === null) {
    const field = `${fieldPrefix}select.remoteCidr`;
    throw new ApiProblem('VALIDATION_FAILED', `${field}: ${cidr} is not a network such as 10.0.0.0/8 or ::1/128`, {}, [{ field, message: 'must be a network such as 10.0.0.0/8 or ::1/128' }]);
  }
  return {
    name: dto.name ?? null,
    target,
    type: dto.type,
    direction: dto.direction,
    attributes: attributesOf(dto.type, dto.attributes ?? {}, fieldPrefix),
    select: { remoteCidr: dto.select?.remoteCidr ?? null, probability: dto.select?.probability ?? 1, seed: dto.select?.seed ?? randomInt(2 ** 32 - 1) },
    trigger: triggerOf(dto.trigger ?? {}, matchLimits, fieldPrefix),
    expiresAfterMs: dto.expiresAfterMs ?? null,
  };
}

/** The trigger as the engine takes it; `onFrame` compiled by the reply rules' matcher, its refusals answered as theirs are. */
function triggerOf(dto: FaultTriggerDto, limits: MatchLimits, fieldPrefix = ''): FaultTrigger {
  let onFrame: FrameTrigger | null = null;
  if (dto.onFrame !== undefined) {
    const match: MatchSpec = dto.onFrame;
    try {
      onFrame = { match, matcher: compileMatch(new SpecReader(match, `${fieldPrefix}trigger.onFrame`), { maxRules: 1, maxReplyBytes: 0, ...limits }).test };
    } catch (err) {
      if (!(err instanceof RuleInvalid)) throw err;
      throw new ApiProblem('VALIDATION_FAILED', err.message, {}, [{ field: err.field, message: err.message }]);
    }
  }
  return { afterBytes: dto.afterBytes ?? null, afterMs: dto.afterMs ?? null, onFrame };
}

function attributesOf(type: FaultSpec['type'], raw: Record<string, number | string>, fieldPrefix = ''): FaultSpec['attributes'] {
  const parsed = parseAttributes(type, raw);
  if ('attributes' in parsed) return parsed.attributes;
  const errors = parsed.problems.map((p) => ({ field: fieldPrefix + p.field, message: p.message }));
  throw new ApiProblem('VALIDATION_FAILED', errors.map((e) => `${e.field}: ${e.message}`).join('; '), {}, errors);
}
