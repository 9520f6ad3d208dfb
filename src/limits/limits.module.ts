import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module';
import { LimitsController } from './limits.controller';
import { LimitsService } from './limits.service';

@Module({
  imports: [EventsModule],
  controllers: [LimitsController],
  providers: [LimitsService],
})
export class LimitsModule {}
