import { PageQueryDto } from '../../common/dto/page-query.dto';
import { IsOneOf } from '../../common/validation';
import { UdpSocketState } from '../../sockets/udp-socket';

export class ListUdpSocketsQueryDto extends PageQueryDto {
  @IsOneOf(Object.values(UdpSocketState), { description: 'Only sockets in this state' })
  state?: string;
}
