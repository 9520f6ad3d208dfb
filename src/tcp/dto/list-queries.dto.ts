import { PageQueryDto } from '../../common/dto/page-query.dto';
import { IsBooleanQuery, IsIntegerQuery, IsOneOf, IsText, IsWaitMs, unsetFirst } from '../../common/validation';
import { TcpConnectionState } from '../../sockets/tcp-connection';
import { TcpListenerState } from '../../sockets/tcp-listener';

export class ListListenersQueryDto extends PageQueryDto {
  @IsOneOf(Object.values(TcpListenerState), {
    description: 'Only listeners in this state',
    examples: unsetFirst('Any state', { listening: { summary: 'Listening', value: TcpListenerState.LISTENING } }),
  })
  state?: string;
}

export class ListConnectionsQueryDto extends PageQueryDto {
  @IsText({
    description: 'Only connections accepted by this listener: its `id`, as `POST /v1/tcp/listeners` answered it',
    examples: unsetFirst('Any listener', { listener: { summary: 'A listener id (the shape; use one you created)', value: 'tl_000001a1b2c3d4e5' } }),
    pattern: { source: '^tl_[0-9a-z]{1,40}$', message: 'listenerId must be a listener id (tl_…)' },
  })
  listenerId?: string;

  @IsOneOf(['inbound', 'outbound'], {
    description: 'Only connections in this direction',
    examples: unsetFirst('Both directions', {
      inbound: { summary: 'Accepted by a listener', value: 'inbound' },
      outbound: { summary: 'Connected through the API', value: 'outbound' },
    }),
  })
  direction?: 'inbound' | 'outbound';

  @IsOneOf(Object.values(TcpConnectionState), {
    description: 'Only connections in this state',
    examples: unsetFirst('Any state', { open: { summary: 'Open both ways', value: TcpConnectionState.OPEN } }),
  })
  state?: string;
}

export class AcceptedQueryDto {
  @IsIntegerQuery({ min: 0, max: Number.MAX_SAFE_INTEGER, description: 'Return connections with an accept index above this (the previous answer’s lastAcceptIndex)', default: 0, example: 0 })
  after!: number;

  @IsWaitMs({ description: 'Long-poll: wait up to this long for the next accepted connection' })
  waitMs!: number;

  @IsIntegerQuery({ min: 1, max: 1000, description: 'Most connections to return', default: 100, example: 100 })
  limit!: number;
}

export class DeleteListenerQueryDto {
  @IsBooleanQuery({ description: 'Also close (gracefully) every connection this listener accepted', default: false, example: false })
  closeConnections!: boolean;
}

export class DeleteConnectionQueryDto {
  @IsOneOf(['graceful', 'reset'], { description: '`graceful` sends FIN and waits briefly for the peer’s; `reset` aborts with RST', default: 'graceful', example: 'graceful' })
  mode!: 'graceful' | 'reset';
}
