import { ApiProperty } from '@nestjs/swagger';
import { IsBooleanField } from '../../common/validation';
import { IssuedTicket } from '../../auth/attach-tickets';

export class AttachTicketDto {
  @IsBooleanField({ default: false, example: true, description: 'The ticket may attach with write=true' })
  write!: boolean;
}

export class AttachTicketResultDto {
  @ApiProperty({ description: 'Pass as `?ticket=` on the attach URL; works once, for this socket, within 30 s', example: 'Jb3cT0xQ9l2m8V1f4n6r7s5u0w3y2a1b' })
  ticket!: string;

  @ApiProperty({ description: 'When the ticket stops working', example: '2026-12-07T17:00:30.000Z' })
  expiresAt!: string;

  @ApiProperty({ description: 'The attach path with the ticket, relative to this service', example: '/v1/tcp/connections/tc_000002f0e1d2c3b4/attach?ticket=Jb3cT0xQ9l2m8V1f4n6r7s5u0w3y2a1b' })
  path!: string;
}

export function toAttachTicketDto(issued: IssuedTicket, attachPath: string): AttachTicketResultDto {
  return { ticket: issued.ticket, expiresAt: issued.expiresAt.toISOString(), path: `${attachPath}?ticket=${issued.ticket}` };
}
