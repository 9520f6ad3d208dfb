import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module';
import { ClusterController } from './cluster.controller';
import { ClusterService } from './cluster.service';

/** The node's place in a cluster (see `ClusterService`); inert on a single node. */
@Module({
  imports: [EventsModule],
  controllers: [ClusterController],
  providers: [ClusterService],
  exports: [ClusterService],
})
export class ClusterModule {}
