import { IsBooleanQuery, IsIntegerQuery, IsOneOf, IsText, unsetFirst } from '../../common/validation';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** What both attach routes take besides where to start. */
class AttachCommonQueryDto {
  @IsOneOf(['manual', 'auto'], {
    default: 'manual',
    example: 'auto',
    description: '`auto`: free what was received as it is delivered to this client (as `DELETE …?upTo=` would); `manual`: leave releasing to the caller',
  })
  release!: 'manual' | 'auto';

  @IsBooleanQuery({ default: true, example: true, description: 'Receive what the peer sends' })
  read!: boolean;

  @IsBooleanQuery({ default: false, example: false, description: 'Send to the peer over this WebSocket; authorised like any send' })
  write!: boolean;

  @IsBooleanQuery({ default: false, example: false, description: 'With write: take the write lock, so no other attachment writes while this one is attached (409 WRITER_ATTACHED when held)' })
  exclusiveWriter!: boolean;

  @IsText({
    minLength: 1,
    maxLength: 64,
    description: 'A one-time ticket from `POST …/attach-tickets`, instead of `Authorization` (browsers cannot set headers on a WebSocket)',
    examples: unsetFirst('With Authorization instead', {}),
  })
  ticket?: string;
}

export class AttachConnectionQueryDto extends AttachCommonQueryDto {
  @IsIntegerQuery({
    min: 0,
    max: MAX_SAFE,
    description: 'Replay the byte log from this offset, then go live with no byte missed or repeated; without it, start with the next byte received',
    examples: unsetFirst('Live only', { start: { summary: 'Everything from the first byte (until released)', value: 0 } }),
  })
  fromOffset?: number;
}

export class AttachUdpSocketQueryDto extends AttachCommonQueryDto {
  @IsIntegerQuery({
    min: 0,
    max: MAX_SAFE,
    description: 'Replay held datagrams from this sequence number, then go live; without it, start with the next datagram received',
    examples: unsetFirst('Live only', { start: { summary: 'Every datagram held', value: 0 } }),
  })
  fromSeq?: number;
}
