import { Module } from '@nestjs/common';
import { FaultsController } from './faults.controller';
import { FaultsService } from './faults.service';

/** `/v1/faults`, over the fault engine the wiring provides. */
@Module({
  controllers: [FaultsController],
  providers: [FaultsService],
  exports: [FaultsService],
})
export class FaultsModule {}
