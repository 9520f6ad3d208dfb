import { ApiProperty } from '@nestjs/swagger';

export class ClusterNodeDto {
  @ApiProperty({ description: 'The node’s id, made at its start; every resource id it makes carries it', example: 'n4k2x9' })
  nodeId!: string;

  @ApiProperty({ enum: ['live', 'unreachable'], description: '`live`: heartbeating; `unreachable`: its heartbeats stopped, and it is about to be declared lost', example: 'live' })
  state!: 'live' | 'unreachable';

  @ApiProperty({ description: 'Where the other nodes reach its API (internal; clients call the load balancer)', example: 'http://10.0.0.2:3000' })
  apiUrl!: string;

  @ApiProperty({ description: 'The address clients dial to reach the listeners it holds', example: '10.0.0.2' })
  socketHost!: string;

  @ApiProperty({ description: 'When it started', example: '2026-11-25T16:30:00.000Z' })
  started!: string;

  @ApiProperty({ description: 'Sockets it holds, as of its last heartbeat (`placement: {spread: true}` picks the least loaded)', example: 12 })
  load!: number;

  @ApiProperty({ description: 'True for the node that answered', example: true })
  self!: boolean;
}

export class ClusterDto {
  @ApiProperty({ description: 'False on a single node (no `SOCKPLANE_CLUSTER_REDIS_URL`): no nodes are listed', example: true })
  clustered!: boolean;

  @ApiProperty({ type: String, nullable: true, description: 'The id of the node that answered; null on a single node', example: 'n4k2x9' })
  nodeId!: string | null;

  @ApiProperty({ type: [ClusterNodeDto], description: 'Every node of the cluster, in id order' })
  nodes!: ClusterNodeDto[];
}
