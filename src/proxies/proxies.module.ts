import { Module } from '@nestjs/common';
import { TcpProxiesController } from './tcp-proxies.controller';
import { TcpProxiesService } from './tcp-proxies.service';
import { UdpProxiesController } from './udp-proxies.controller';
import { UdpProxiesService } from './udp-proxies.service';

/** `/v1/tcp/proxies` and `/v1/udp/proxies`, over the proxies the wiring provides. */
@Module({
  controllers: [TcpProxiesController, UdpProxiesController],
  providers: [TcpProxiesService, UdpProxiesService],
  exports: [TcpProxiesService],
})
export class ProxiesModule {}
