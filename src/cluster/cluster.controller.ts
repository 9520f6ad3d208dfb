import { Controller, Get, HttpCode } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiKeyAuth, ApiProblems } from '../common/api-docs';
import { ClusterService } from './cluster.service';
import { ClusterDto } from './dto/cluster.dto';

@ApiTags('Cluster')
@ApiKeyAuth()
@Controller('v1/cluster')
export class ClusterController {
  constructor(private readonly cluster: ClusterService) {}

  @Get()
  @HttpCode(200)
  @ApiOperation({
    summary: 'List the nodes of the cluster',
    description:
      'The nodes of the cluster this node belongs to (`SOCKPLANE_CLUSTER_REDIS_URL`), with their state, load and the address their listeners ' +
      'are dialled at. Any node answers for any socket: a call for a socket another node holds is forwarded to it, lists gather every node. ' +
      'A single node answers `clustered: false` and no nodes.',
  })
  @ApiResponse({
    status: 200,
    type: ClusterDto,
    description: 'The nodes',
    example: {
      clustered: true,
      nodeId: 'n4k2x9',
      nodes: [
        { nodeId: 'b7q0m1', state: 'live', apiUrl: 'http://10.0.0.3:3000', socketHost: '10.0.0.3', started: '2026-11-25T16:29:58.000Z', load: 3, self: false },
        { nodeId: 'n4k2x9', state: 'live', apiUrl: 'http://10.0.0.2:3000', socketHost: '10.0.0.2', started: '2026-11-25T16:30:00.000Z', load: 12, self: true },
      ],
    },
  })
  @ApiProblems('UNAUTHORIZED', 'CLUSTER_UNAVAILABLE')
  getCluster(): ClusterDto {
    return this.cluster.view();
  }
}
