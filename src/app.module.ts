import { DynamicModule, Module } from '@nestjs/common';
import { AttachModule } from './attach/attach.module';
import { AuthModule } from './auth/auth.module';
import { AppConfig } from './config/app-config';
import { ClusterModule } from './cluster/cluster.module';
import { ConfigModule } from './config/config.module';
import { EventsModule } from './events/events.module';
import { HealthModule } from './health/health.module';
import { LoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';
import { LimitsModule } from './limits/limits.module';
import { HostResolver } from './sockets/destination';
import { InstanceCa } from './sockets/tls/instance-ca';
import { SocketsModule } from './wiring/sockets.module';
import { TcpModule } from './tcp/tcp.module';
import { TlsModule } from './tls/tls.module';
import { UdpModule } from './udp/udp.module';
import { ProxiesModule } from './proxies/proxies.module';
import { FaultsModule } from './faults/faults.module';
import { FaultsRuntimeModule } from './wiring/faults-runtime.module';
import { ToxiproxyModule } from './toxiproxy/toxiproxy.module';
import { RulesModule } from './rules/rules.module';
import { ScenarioModule } from './scenario/scenario.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, hostResolver: HostResolver | undefined, ca: InstanceCa): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        SocketsModule.forRoot(hostResolver),
        LoggingModule,
        AuthModule,
        TcpModule,
        UdpModule,
        TlsModule.forRoot(ca),
        EventsModule,
        LimitsModule,
        HealthModule,
        MetricsModule,
        FaultsRuntimeModule,
        ProxiesModule,
        FaultsModule,
        ToxiproxyModule,
        AttachModule,
        ClusterModule,
        RulesModule,
        ScenarioModule,
      ],
    };
  }
}
