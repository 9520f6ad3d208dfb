import { Injectable } from '@nestjs/common';
import { randomInt } from 'node:crypto';
import { Caller } from '../auth/caller';
import { ApiProblem } from '../common/api-problem';
import { FaultChange, FaultSpec, parseCidr } from '../sockets/faults/fault';
import { FaultEngine } from '../sockets/faults/fault-engine';
import { TcpProxies } from '../sockets/proxy/tcp-proxies';
import { parseAttributes } from '../sockets/faults/fault-types';
import { ChangeFaultDto, CreateFaultDto, InlineFaultDto, ReplaceFaultsDto } from './dto/create-fault.dto';
import { FaultDto, FaultListDto, FaultPageDto, toFaultDto } from './dto/fault.dto';
import { ListFaultsQueryDto } from './dto/list-faults.dto';

const ID_SHAPE = /^(tp|up|tl|tc)_[0-9a-z]{1,40}$/;

/** Translates fault requests into the fault engine's specs and its faults back into representations. */
@Injectable()
export class FaultsService {
  constructor(
    private readonly engine: FaultEngine,
    private readonly proxies: TcpProxies,
  ) {}

  create(dto: CreateFaultDto, caller: Caller): FaultDto {
    return this.toDto(this.engine.create(toFaultSpec(dto, this.targetId(dto.target, caller)), caller.owner).id);
  }

  list(query: ListFaultsQueryDto, caller: Caller): FaultPageDto {
    const page = this.engine.list({ owner: caller.scope, target: query.target }, query.limit, query.cursor);
    return { items: page.items.map((fault) => toFaultDto(fault, this.engine.placedOn(fault.id))), nextCursor: page.nextCursor };
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
      trigger: dto.trigger && { afterBytes: dto.trigger.afterBytes ?? null, afterMs: dto.trigger.afterMs ?? null },
      expiresAfterMs: dto.expiresAfterMs,
    };
    return this.toDto(this.engine.change(id, change, caller.scope).id);
  }

  remove(id: string, caller: Caller): FaultDto {
    const fault = this.engine.remove(id, caller.scope);
    return toFaultDto(fault, []);
  }

  replaceAll(dto: ReplaceFaultsDto, caller: Caller): FaultListDto {
    const specs = (dto.faults ?? []).map((fault, index) => toFaultSpec(fault, this.targetId(fault.target, caller), `faults[${index}].`));
    return { items: this.engine.replaceAll(specs, caller.owner).map((fault) => toFaultDto(fault, this.engine.placedOn(fault.id))) };
  }

  /** A target given by id as it is; a proxy's name as its id (unknown names stay as given, and the engine answers 404). */
  private targetId(target: string, caller: Caller): string {
    return ID_SHAPE.test(target) ? target : (this.proxies.findByName(target, caller.scope)?.id ?? target);
  }

  private toDto(id: string): FaultDto {
    return toFaultDto(this.engine.get(id), this.engine.placedOn(id));
  }
}

/** A fault request as the engine's spec: attributes checked against its type, defaults filled in, a seed drawn when none was given. */
export function toFaultSpec(dto: InlineFaultDto, target: string, fieldPrefix = ''): FaultSpec {
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
    trigger: { afterBytes: dto.trigger?.afterBytes ?? null, afterMs: dto.trigger?.afterMs ?? null },
    expiresAfterMs: dto.expiresAfterMs ?? null,
  };
}

function attributesOf(type: FaultSpec['type'], raw: Record<string, number | string>, fieldPrefix = ''): FaultSpec['attributes'] {
  const parsed = parseAttributes(type, raw);
  if ('attributes' in parsed) return parsed.attributes;
  const errors = parsed.problems.map((p) => ({ field: fieldPrefix + p.field, message: p.message }));
  throw new ApiProblem('VALIDATION_FAILED', errors.map((e) => `${e.field}: ${e.message}`).join('; '), {}, errors);
}
