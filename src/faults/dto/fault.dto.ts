import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Fault } from '../../sockets/faults/fault';
import { FAULT_DIRECTIONS, FAULT_TYPE_NAMES } from '../../sockets/faults/fault-types';
import { MatchDto } from '../../rules/dto/rule-set.dto';

export class FaultSelectStateDto {
  @ApiPropertyOptional({ type: String, nullable: true, example: null })
  remoteCidr!: string | null;

  @ApiProperty({ example: 1 })
  probability!: number;

  @ApiProperty({ description: 'The generator’s seed: create a fault with it again to roll the same way', example: 42 })
  seed!: number;
}

export class FaultTriggerStateDto {
  @ApiPropertyOptional({ type: Number, nullable: true, example: null })
  afterBytes!: number | null;

  @ApiPropertyOptional({ type: Number, nullable: true, example: null })
  afterMs!: number | null;

  @ApiPropertyOptional({ type: MatchDto, nullable: true, description: 'The condition on received frames that arms it, as given', example: null })
  onFrame!: MatchDto | null;
}

export class FaultDto {
  @ApiProperty({ example: 'ft_000003a1b2c3d4e5' })
  id!: string;

  @ApiPropertyOptional({ type: String, nullable: true, example: 'slow-replies' })
  name!: string | null;

  @ApiProperty({ description: 'The proxy, listener or connection it acts on', example: 'tp_000001a1b2c3d4e5' })
  target!: string;

  @ApiProperty({ enum: FAULT_TYPE_NAMES, example: 'latency' })
  type!: string;

  @ApiProperty({ enum: FAULT_DIRECTIONS, example: 'toPeer' })
  direction!: string;

  @ApiProperty({ type: 'object', additionalProperties: { oneOf: [{ type: 'number' }, { type: 'string' }] }, description: 'Its attributes, defaults filled in', example: { ms: 100, jitterMs: 0 } })
  attributes!: Record<string, number | string>;

  @ApiProperty({ type: FaultSelectStateDto })
  select!: FaultSelectStateDto;

  @ApiProperty({ type: FaultTriggerStateDto })
  trigger!: FaultTriggerStateDto;

  @ApiPropertyOptional({ type: Number, nullable: true, example: null })
  expiresAfterMs!: number | null;

  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true, example: null })
  expiresAt!: string | null;

  @ApiProperty({ enum: ['active', 'ended'], example: 'active' })
  state!: string;

  @ApiProperty({ description: 'Connections it was put on, over its life', example: 1 })
  applied!: number;

  @ApiProperty({ description: 'Connections on which its trigger fired', example: 0 })
  triggered!: number;

  @ApiProperty({ type: [String], description: 'Connections it acts on now', example: ['tc_000004a1b2c3d4e5'] })
  connections!: string[];

  @ApiProperty({
    description: 'Bytes it holds back now (latency, bandwidth, slice…), over those connections; each direction of each connection holds at most about the pending-write cap before its sender is pushed back',
    example: 0,
  })
  heldBytes!: number;

  @ApiProperty({ format: 'date-time', example: '2026-11-25T16:30:00.000Z' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-25T16:30:00.000Z' })
  updatedAt!: string;
}

export class FaultPageDto {
  @ApiProperty({ type: [FaultDto] })
  items!: FaultDto[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last one', example: null })
  nextCursor!: string | null;
}

export class FaultListDto {
  @ApiProperty({ type: [FaultDto] })
  items!: FaultDto[];
}

export function toFaultDto(fault: Fault, connections: string[], heldBytes: number): FaultDto {
  const { spec } = fault;
  return {
    id: fault.id,
    name: spec.name,
    target: spec.target,
    type: spec.type,
    direction: spec.direction,
    attributes: { ...spec.attributes },
    select: { ...spec.select },
    trigger: { afterBytes: spec.trigger.afterBytes, afterMs: spec.trigger.afterMs, onFrame: spec.trigger.onFrame?.match ?? null },
    expiresAfterMs: spec.expiresAfterMs,
    expiresAt: fault.expiresAt?.toISOString() ?? null,
    state: fault.state,
    applied: fault.applied,
    triggered: fault.triggered,
    connections,
    heldBytes,
    createdAt: fault.createdAt.toISOString(),
    updatedAt: fault.updatedAt.toISOString(),
  };
}
