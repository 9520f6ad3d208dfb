import { ArgumentMetadata, Injectable, PipeTransform, Type } from '@nestjs/common';
import { RawBody } from './raw-body';
import { VALIDATION } from './validation';

/**
 * For operations that take either JSON or a raw `application/octet-stream` body: a raw body
 * passes through unvalidated, as one `Buffer` or, with `keepChunks`, as the `RawBody` it arrived
 * in (for senders that can write chunks); anything else is validated as the given DTO.
 */
@Injectable()
export class PayloadBodyPipe<T extends object> implements PipeTransform<unknown, Promise<T | Buffer | RawBody>> {
  constructor(
    private readonly dto: Type<T>,
    private readonly keepChunks = false,
  ) {}

  async transform(value: unknown, metadata: ArgumentMetadata): Promise<T | Buffer | RawBody> {
    if (value instanceof RawBody) return this.keepChunks ? value : value.toBuffer();
    return (await VALIDATION.transform(value, { ...metadata, metatype: this.dto })) as T;
  }
}
