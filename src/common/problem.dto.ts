import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class FieldErrorDto {
  @ApiProperty({ description: 'Path of the offending field or query parameter', example: 'port' })
  field!: string;

  @ApiProperty({ description: 'What is wrong with it', example: 'port must not be greater than 65535' })
  message!: string;
}

/** RFC 9457 problem details, as every error is answered. */
export class ProblemDto {
  @ApiProperty({ description: 'URI naming the problem type', example: 'urn:sockplane:problem:validation-failed' })
  type!: string;

  @ApiProperty({ description: 'Short summary of the problem type', example: 'The request is not valid' })
  title!: string;

  @ApiProperty({ description: 'HTTP status code', example: 400 })
  status!: number;

  @ApiProperty({ description: 'What went wrong this time', example: 'port must not be greater than 65535' })
  detail!: string;

  @ApiProperty({ description: 'The request path', example: '/v1/tcp/listeners' })
  instance!: string;

  @ApiProperty({ description: 'Stable machine-readable code (see docs/errors.md)', example: 'VALIDATION_FAILED' })
  code!: string;

  @ApiPropertyOptional({ description: 'The operating system error code, when one caused the problem', example: 'ECONNREFUSED' })
  errno?: string;

  @ApiPropertyOptional({ type: [FieldErrorDto], description: 'Each invalid field (validation problems only)' })
  errors?: FieldErrorDto[];
}
