import { Module } from '@nestjs/common';
import { ProxiesModule } from '../proxies/proxies.module';
import { TcpModule } from '../tcp/tcp.module';
import { UdpModule } from '../udp/udp.module';
import { ScenarioController } from './scenario.controller';
import { ScenarioService } from './scenario.service';

/** `/v1/scenario`: apply and export scenarios, import mountebank imposters; applies SOCKPLANE_SCENARIO_FILE at start. */
@Module({
  imports: [TcpModule, UdpModule, ProxiesModule],
  controllers: [ScenarioController],
  providers: [ScenarioService],
})
export class ScenarioModule {}
