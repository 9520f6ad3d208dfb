import { Module } from '@nestjs/common';
import { FaultEngine } from '../sockets/faults/fault-engine';
import { SocketRegistry } from '../sockets/socket-registry';
import { FaultsController } from './faults.controller';
import { FaultsService } from './faults.service';

/** The fault engine over the one registry (Nest closes it on shutdown), and `/v1/faults`. */
@Module({
  controllers: [FaultsController],
  providers: [{ provide: FaultEngine, inject: [SocketRegistry], useFactory: (registry: SocketRegistry) => new FaultEngine(registry) }, FaultsService],
  exports: [FaultEngine],
})
export class FaultsModule {}
