import { DynamicModule, Module } from '@nestjs/common';
import { AuthModule } from './auth/auth.module';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { EventsModule } from './events/events.module';
import { HealthModule } from './health/health.module';
import { LoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';
import { LimitsModule } from './limits/limits.module';
import { HostResolver } from './sockets/tcp-connector';
import { SocketsModule } from './sockets/sockets.module';
import { TcpModule } from './tcp/tcp.module';
import { TlsOptions } from './tls/tls-options';
import { TlsModule } from './tls/tls.module';
import { UdpModule } from './udp/udp.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, hostResolver?: HostResolver, tls: Partial<TlsOptions> = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        SocketsModule.forRoot(hostResolver),
        LoggingModule,
        AuthModule,
        TcpModule,
        UdpModule,
        TlsModule.forRoot(tls),
        EventsModule,
        LimitsModule,
        HealthModule,
        MetricsModule,
      ],
    };
  }
}
