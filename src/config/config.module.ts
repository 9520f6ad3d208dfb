import { DynamicModule, Global, Module } from '@nestjs/common';
import { AppConfig, AuthSettings, EventSettings, RequestSettings, RuleSettings, TlsSettings, settingSlices } from './app-config';

/**
 * Makes the validated settings injectable everywhere: the whole `AppConfig`, and the slices
 * modules that need only part of it take instead.
 */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    const slices = settingSlices(config);
    const providers = [
      { provide: AppConfig, useValue: config },
      { provide: EventSettings, useValue: slices.events },
      { provide: RequestSettings, useValue: slices.requests },
      { provide: AuthSettings, useValue: slices.auth },
      { provide: TlsSettings, useValue: slices.tls },
      { provide: RuleSettings, useValue: slices.rules },
    ];
    return { module: ConfigModule, providers, exports: providers.map((provider) => provider.provide) };
  }
}
