import { Module } from '@nestjs/common';
import { ToxiproxyController } from './toxiproxy.controller';
import { ToxiproxyPort } from './toxiproxy-port';
import { ToxiproxyService } from './toxiproxy.service';

/** Toxiproxy's API under `/toxiproxy` (and on its own port when configured), over the proxies and faults the wiring provides. */
@Module({
  controllers: [ToxiproxyController],
  providers: [ToxiproxyService, ToxiproxyPort],
})
export class ToxiproxyModule {}
