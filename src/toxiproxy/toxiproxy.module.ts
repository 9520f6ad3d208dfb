import { Module } from '@nestjs/common';
import { ToxiproxyController } from './toxiproxy.controller';
import { ToxiproxyService } from './toxiproxy.service';

/** Toxiproxy's API under `/toxiproxy`, over the proxies and faults the wiring provides. */
@Module({
  controllers: [ToxiproxyController],
  providers: [ToxiproxyService],
})
export class ToxiproxyModule {}
