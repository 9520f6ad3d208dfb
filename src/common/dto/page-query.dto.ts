import { IsCursor, IsIntegerQuery, IsLabelSelector } from '../validation';

/** `?limit=&cursor=&label=key:value`, shared by every list operation. */
export class PageQueryDto {
  @IsIntegerQuery({ min: 1, max: 1000, description: 'Items per page', default: 100, example: 100 })
  limit!: number;

  @IsCursor()
  cursor?: string;

  @IsLabelSelector()
  label?: string[];
}
