import { ApiProperty, SchemaObject } from '@nestjs/swagger';

/** Indicator name → its status and data. */
const INDICATORS: { type: 'object'; additionalProperties: SchemaObject } = {
  type: 'object',
  additionalProperties: { type: 'object', properties: { status: { type: 'string', enum: ['up', 'down'] } }, additionalProperties: true },
};

/** The `@nestjs/terminus` health check result, as answered when healthy. */
export class HealthCheckDto {
  @ApiProperty({ enum: ['ok'], example: 'ok' })
  status!: 'ok';

  @ApiProperty({ ...INDICATORS, description: 'Indicators that are up', example: { socketQuota: { status: 'up', held: 3, max: 20000 } } })
  info!: Record<string, unknown>;

  @ApiProperty({ ...INDICATORS, description: 'Indicators that are down (empty when healthy)', example: {} })
  error!: Record<string, unknown>;

  @ApiProperty({ ...INDICATORS, description: 'Every indicator', example: { socketQuota: { status: 'up', held: 3, max: 20000 } } })
  details!: Record<string, unknown>;
}
