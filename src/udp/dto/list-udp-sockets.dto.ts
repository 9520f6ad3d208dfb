import { PageQueryDto } from '../../common/dto/page-query.dto';
import { IsOneOf, unsetFirst } from '../../common/validation';
import { UdpSocketState } from '../../sockets/udp-socket';

export class ListUdpSocketsQueryDto extends PageQueryDto {
  @IsOneOf(Object.values(UdpSocketState), {
    description: 'Only sockets in this state',
    examples: unsetFirst('Any state', { bound: { summary: 'Bound', value: UdpSocketState.BOUND } }),
  })
  state?: string;
}
