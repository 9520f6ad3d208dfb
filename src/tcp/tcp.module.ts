import { Module } from '@nestjs/common';
import { ConnectionsController } from './connections.controller';
import { ListenersController } from './listeners.controller';
import { TcpService } from './tcp.service';

@Module({
  controllers: [ListenersController, ConnectionsController],
  providers: [TcpService],
  exports: [TcpService],
})
export class TcpModule {}
