import { Global, Module } from '@nestjs/common';
import { FaultEngine } from '../sockets/faults/fault-engine';
import { TcpProxies } from '../sockets/proxy/tcp-proxies';
import { UdpProxies } from '../sockets/proxy/udp-proxies';
import { SocketRegistry } from '../sockets/socket-registry';

/** Provides the fault engine and the TCP and UDP proxies over the one registry, to the proxies, faults and Toxiproxy folders; Nest closes them on shutdown. */
@Global()
@Module({
  providers: [
    { provide: FaultEngine, inject: [SocketRegistry], useFactory: (registry: SocketRegistry) => new FaultEngine(registry) },
    { provide: TcpProxies, inject: [SocketRegistry, FaultEngine], useFactory: (registry: SocketRegistry, faults: FaultEngine) => new TcpProxies(registry, faults) },
    { provide: UdpProxies, inject: [SocketRegistry, FaultEngine], useFactory: (registry: SocketRegistry, faults: FaultEngine) => new UdpProxies(registry, faults) },
  ],
  exports: [FaultEngine, TcpProxies, UdpProxies],
})
export class FaultsRuntimeModule {}
