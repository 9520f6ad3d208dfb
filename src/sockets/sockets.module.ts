import { DynamicModule, Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { SocketRegistry } from './socket-registry';
import { HostResolver, systemResolver } from './tcp-connector';

/** Provides the one socket registry; Nest closes it (and every socket) on shutdown. */
@Global()
@Module({})
export class SocketsModule {
  /** `hostResolver` replaces the system resolver (tests resolve names without DNS). */
  static forRoot(hostResolver: HostResolver = systemResolver): DynamicModule {
    return {
      module: SocketsModule,
      providers: [
        {
          provide: SocketRegistry,
          inject: [AppConfig],
          useFactory: (config: AppConfig) =>
            new SocketRegistry(
              {
                maxBufferedBytes: config.maxBufferedBytes,
                maxPendingWriteBytes: config.maxPendingWriteBytes,
                closeLingerMs: config.closeLingerMs,
                closedRetentionMs: config.closedRetentionMs,
                maxSockets: config.maxSockets,
                udpMaxDatagrams: config.udpMaxDatagrams,
                udpMaxBufferedBytes: config.udpMaxBufferedBytes,
              },
              hostResolver,
            ),
        },
      ],
      exports: [SocketRegistry],
    };
  }
}
