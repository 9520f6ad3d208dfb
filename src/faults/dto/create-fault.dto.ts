import { IsIntegerField, IsNestedList, IsNestedObject, IsNumberField, IsOneOf, IsText, IsValueMap } from '../../common/validation';
import { FAULT_DIRECTIONS, FAULT_TYPE_NAMES, FaultDirection, FaultType } from '../../sockets/faults/fault-types';
import { MatchDto } from '../../rules/dto/rule-set.dto';

export class FaultSelectDto {
  @IsText({
    maxLength: 64,
    description: 'Only connections whose peer is in this network (`127.0.0.0/8`, `::1/128`); omitted: any peer',
    example: '127.0.0.0/8',
    pattern: { source: '^[0-9A-Fa-f:.]+/[0-9]{1,3}$', message: 'remoteCidr must be a network such as 10.0.0.0/8 or ::1/128' },
  })
  remoteCidr?: string;

  @IsNumberField({ min: 0, max: 1, description: 'The share of connections it acts on, rolled once per connection from `seed` (Toxiproxy’s toxicity)', default: 1, example: 1 })
  probability!: number;

  @IsIntegerField({ min: 0, max: 4_294_967_295, description: 'Seed of the fault’s generator: the same seed rolls the same way in every run. Omitted: a random one (shown in the answer)', example: 42 })
  seed?: number;
}

export class FaultTriggerDto {
  @IsIntegerField({ min: 0, max: 1 << 30, description: 'Act only once this many bytes passed in its directions (they pass untouched)', example: 1024 })
  afterBytes?: number;

  @IsIntegerField({ min: 0, max: 3_600_000, description: 'Act only this long after it was put on the connection', example: 1000 })
  afterMs?: number;

  @IsNestedObject(MatchDto, {
    description:
      'Act once the connection receives a frame that matches, as a reply rule’s `match` (docs/rules.md): a frame of its framing, or a received chunk without framing; what carried it passes untouched',
  })
  onFrame?: MatchDto;
}

/** A fault without its target: inline in a proxy's creation, the proxy is the target. */
export class InlineFaultDto {
  @IsText({ minLength: 1, maxLength: 64, description: 'A name unique on its target (Toxiproxy’s toxic name); omitted: none', example: 'slow-replies' })
  name?: string;

  @IsOneOf(FAULT_TYPE_NAMES, { required: true, description: 'What it does (docs/faults.md has a section per type)', example: 'latency' })
  type!: FaultType;

  @IsOneOf(FAULT_DIRECTIONS, {
    description: '`toPeer`: bytes the connection sends to its peer; `fromPeer`: bytes it receives; on a proxy, the client’s half: `toPeer` is Toxiproxy’s downstream, `fromPeer` its upstream',
    default: 'both',
    example: 'toPeer',
  })
  direction!: FaultDirection;

  @IsValueMap({ description: 'The type’s attributes, e.g. `{ms: 100, jitterMs: 0}` for latency (docs/faults.md lists each type’s)', default: {}, example: { ms: 100 } })
  attributes!: Record<string, number | string>;

  @IsNestedObject(FaultSelectDto, { description: 'Which connections it acts on; omitted: all of them' })
  select?: FaultSelectDto;

  @IsNestedObject(FaultTriggerDto, { description: 'When it starts acting on a connection; omitted: at once' })
  trigger?: FaultTriggerDto;

  @IsIntegerField({ min: 1, max: 86_400_000, description: 'It removes itself this long after it was created (or last changed); omitted: never', example: 60000 })
  expiresAfterMs?: number;
}

export class CreateFaultDto extends InlineFaultDto {
  @IsText({
    required: true,
    maxLength: 64,
    description: 'What it acts on: a TCP proxy (its id `tp_…` or its name), a listener (`tl_…`, the connections it accepts), a connection (`tc_…`) or a UDP proxy (`up_…`, with the UDP types)',
    example: 'tutorial',
    pattern: { source: '^[A-Za-z0-9._-]+$', message: 'target must be a proxy, listener or connection id (tp_…, up_…, tl_…, tc_…) or a TCP proxy name' },
  })
  target!: string;
}

export class ChangeFaultDto {
  @IsOneOf(FAULT_DIRECTIONS, { description: 'New direction', example: 'both' })
  direction?: FaultDirection;

  @IsValueMap({ description: 'New attributes (all of them, as for creation)', example: { ms: 200 } })
  attributes?: Record<string, number | string>;

  @IsNumberField({ min: 0, max: 1, description: 'New share of connections; connections already rolled keep their roll', example: 0.5 })
  probability?: number;

  @IsNestedObject(FaultTriggerDto, { description: 'New trigger' })
  trigger?: FaultTriggerDto;

  @IsIntegerField({ min: 1, max: 86_400_000, description: 'Removes itself this long from now', example: 60000 })
  expiresAfterMs?: number;
}

export class ReplaceFaultsDto {
  @IsNestedList(CreateFaultDto, { minItems: 0, maxItems: 1000, description: 'Every fault there should be; omitted or empty: none', default: [] })
  faults!: CreateFaultDto[];
}
