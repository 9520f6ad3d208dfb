import { Module } from '@nestjs/common';
import { FaultsModule } from '../faults/faults.module';
import { FaultEngine } from '../sockets/faults/fault-engine';
import { TcpProxies } from '../sockets/proxy/tcp-proxies';
import { SocketRegistry } from '../sockets/socket-registry';
import { TcpProxiesController } from './tcp-proxies.controller';
import { TcpProxiesService } from './tcp-proxies.service';

/** The TCP proxies over the one registry and fault engine (Nest closes them on shutdown), and `/v1/tcp/proxies`. */
@Module({
  imports: [FaultsModule],
  controllers: [TcpProxiesController],
  providers: [
    { provide: TcpProxies, inject: [SocketRegistry, FaultEngine], useFactory: (registry: SocketRegistry, faults: FaultEngine) => new TcpProxies(registry, faults) },
    TcpProxiesService,
  ],
  exports: [TcpProxies, TcpProxiesService, FaultsModule],
})
export class ProxiesModule {}
