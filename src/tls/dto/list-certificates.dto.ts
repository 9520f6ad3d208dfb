import { IsCursor, IsIntegerQuery } from '../../common/validation';

/** `?limit=&cursor=`: certificates carry no labels to filter by. */
export class ListCertificatesQueryDto {
  @IsIntegerQuery({ min: 1, max: 1000, description: 'Items per page', default: 100, example: 100 })
  limit: number = 100;

  @IsCursor()
  cursor?: string;
}
