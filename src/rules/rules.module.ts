import { Global, Module } from '@nestjs/common';
import { RulesController } from './rules.controller';
import { RulesService } from './rules.service';

/** The `…/rules` routes, and the rule compiler the TCP and UDP create operations take `rules` through. */
@Global()
@Module({
  controllers: [RulesController],
  providers: [RulesService],
  exports: [RulesService],
})
export class RulesModule {}
