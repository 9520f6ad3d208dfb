import { IsCursor, IsIntegerQuery, IsText, unsetFirst } from '../../common/validation';

export class ListFaultsQueryDto {
  @IsIntegerQuery({ min: 1, max: 1000, description: 'Items per page', default: 100, example: 100 })
  limit!: number;

  @IsCursor()
  cursor?: string;

  @IsText({
    maxLength: 64,
    description: 'Only faults on this proxy, listener or connection',
    examples: unsetFirst('Any target', { proxy: { summary: 'A proxy id (the shape; use one you created)', value: 'tp_000001a1b2c3d4e5' } }),
  })
  target?: string;
}
