import { ArgumentMetadata, Injectable, PipeTransform, Type } from '@nestjs/common';
import { createValidationPipe } from './validation';

/**
 * For operations that take either JSON or a raw `application/octet-stream` body: a Buffer
 * passes through untouched, anything else is validated as the given DTO.
 */
@Injectable()
export class PayloadBodyPipe<T extends object> implements PipeTransform<unknown, Promise<T | Buffer>> {
  private readonly validation = createValidationPipe();

  constructor(private readonly dto: Type<T>) {}

  async transform(value: unknown, metadata: ArgumentMetadata): Promise<T | Buffer> {
    if (Buffer.isBuffer(value)) return value;
    return (await this.validation.transform(value, { ...metadata, metatype: this.dto })) as T;
  }
}
