import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { MetricsModule } from '../metrics/metrics.module';
import { AttachService } from './attach.service';
import { ConnectionAttachController } from './connection-attach.controller';
import { UdpSocketAttachController } from './udp-socket-attach.controller';

/** WebSocket attach for TCP connections and UDP sockets (`registerAttachRoutes` wires the upgrade). */
@Module({
  imports: [AuthModule, MetricsModule],
  controllers: [ConnectionAttachController, UdpSocketAttachController],
  providers: [AttachService],
})
export class AttachModule {}
