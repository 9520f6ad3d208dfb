import { ApiProperty } from '@nestjs/swagger';
import { IsBooleanField, IsLooseObject, IsOneOf, IsPort, IsText } from '../../common/validation';

/** A mountebank stub: its predicates and responses, in mountebank’s own format (mbtest.org/docs/api/stubs). */
export class MountebankStubDto {
  @ApiProperty({ type: 'array', items: { type: 'object' }, required: false, description: 'equals, deepEquals, contains, startsWith, endsWith, matches, and, or, not on `data`', example: [{ contains: { data: 'sayHello' } }] })
  predicates?: Record<string, unknown>[];

  @ApiProperty({ type: 'array', items: { type: 'object' }, required: false, description: '`is` responses (used in turn), `repeat`, `wait` behaviors, the two TCP faults', example: [{ is: { data: 'hello, world!' } }] })
  responses?: Record<string, unknown>[];
}

/** A mountebank TCP imposter, as `POST /imposters` takes it (or as mountebank exports it). */
export class MountebankImposterDto {
  @IsOneOf(['tcp'], { required: true, description: 'Only TCP imposters are imported', example: 'tcp' })
  protocol!: 'tcp';

  @IsPort({ allowZero: true, required: false, description: 'The port; omitted or 0: a free one', example: 0 })
  port?: number;

  @IsText({ maxLength: 253, description: 'The address to bind (default 127.0.0.1)', example: '127.0.0.1' })
  host?: string;

  @IsText({ maxLength: 256, description: 'Becomes the listener’s name when it is a valid one; otherwise `mountebank-<port>`', example: 'rpc' })
  name?: string;

  @IsOneOf(['text', 'binary'], { description: '`text` (utf8, predicates ignore case unless caseSensitive) or `binary` (base64)', example: 'text' })
  mode?: 'text' | 'binary';

  @IsLooseObject(() => MountebankStubDto, { maxItems: 1000, description: 'The stubs, in order: first match wins' })
  stubs?: MountebankStubDto[];

  @IsLooseObject(() => Object, { description: 'Sent when no stub matches: `{"data": "…"}`' })
  defaultResponse?: Record<string, unknown>;

  @IsBooleanField({ description: 'Ignored: sockplane always keeps what a connection received, for reads' })
  recordRequests?: boolean;

  @IsLooseObject(() => Object, { description: 'Refused: it runs JavaScript. Frame the listener instead' })
  endOfRequestResolver?: Record<string, unknown>;

  @IsLooseObject(() => Object, { maxItems: 100_000, description: 'Ignored: an exported imposter’s recorded requests' })
  requests?: Record<string, unknown>[];

  @IsLooseObject(() => Object, { description: 'Ignored: an exported imposter’s links' })
  _links?: Record<string, unknown>;
}
