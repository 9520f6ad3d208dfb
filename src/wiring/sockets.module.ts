import { DynamicModule, Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { LongPollGate } from '../policy/long-poll-gate';
import { NetworkPolicy } from '../policy/network-policy';
import { HostResolver, systemResolver } from '../sockets/destination';
import { SocketRegistry } from '../sockets/socket-registry';

/** Provides the one socket registry, bound by the configured network policy; Nest closes it (and every socket) on shutdown. */
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
                maxSocketsPerKey: config.maxSocketsPerKey,
                maxTotalBufferedBytes: config.maxTotalBufferedBytes,
                udpMaxDatagrams: config.udpMaxDatagrams,
                udpMaxBufferedBytes: config.udpMaxBufferedBytes,
              },
              new NetworkPolicy({ allow: config.policyAllow, deny: config.policyDeny, bindHosts: config.bindHosts, bindPorts: config.bindPorts }),
              hostResolver,
            ),
        },
        { provide: LongPollGate, inject: [AppConfig], useFactory: (config: AppConfig) => new LongPollGate(config.maxLongPolls) },
      ],
      exports: [SocketRegistry, LongPollGate],
    };
  }
}
