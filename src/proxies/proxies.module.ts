import { Module } from '@nestjs/common';
import { TcpProxiesController } from './tcp-proxies.controller';
import { TcpProxiesService } from './tcp-proxies.service';

/** `/v1/tcp/proxies`, over the TCP proxies the wiring provides. */
@Module({
  controllers: [TcpProxiesController],
  providers: [TcpProxiesService],
  exports: [TcpProxiesService],
})
export class ProxiesModule {}
