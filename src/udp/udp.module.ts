import { Module } from '@nestjs/common';
import { UdpSocketsController } from './udp.controller';
import { UdpService } from './udp.service';

@Module({
  controllers: [UdpSocketsController],
  providers: [UdpService],
  exports: [UdpService],
})
export class UdpModule {}
