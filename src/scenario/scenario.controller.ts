import { Body, Controller, Get, HttpCode, Post, Put } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Caller } from '../auth/caller';
import { Owner } from '../auth/owner.decorator';
import { ApiKeyAuth, ApiProblems } from '../common/api-docs';
import { Validated } from '../common/route-validation';
import { ListenerDto } from '../tcp/dto/listener.dto';
import { MountebankImposterDto } from './dto/mountebank.dto';
import { ScenarioDto, ScenarioResultDto } from './dto/scenario.dto';
import { MOUNTEBANK_EXAMPLES, SCENARIO_EXAMPLES } from './scenario-examples';
import { ScenarioService } from './scenario.service';

@ApiTags('Scenario')
@ApiKeyAuth()
@Controller('v1/scenario')
export class ScenarioController {
  constructor(private readonly scenario: ScenarioService) {}

  @Get()
  @ApiOperation({
    summary: 'Export the running scenario',
    description: 'The listeners and UDP sockets scenarios opened and that are still open, in the form `PUT /v1/scenario` takes, each with the port it got. Private keys are never part of it (certificates are named by id).',
  })
  @ApiResponse({ status: 200, type: ScenarioDto })
  exportScenario(@Owner() caller: Caller): ScenarioDto {
    return this.scenario.export(caller);
  }

  @Put()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Apply a scenario',
    description:
      'Makes your scenario resources match it, idempotently (docs/scenarios.md): a resource that did not change keeps its port and its connections, ' +
      'one whose rules alone changed gets them in place, one that changed otherwise is opened again, one no longer named is closed (a listener with its connections). ' +
      'Rules are all compiled first: a bad one changes nothing. Resources you opened with a plain POST are left alone.',
  })
  @ApiBody({ type: ScenarioDto, examples: SCENARIO_EXAMPLES })
  @ApiResponse({ status: 200, type: ScenarioResultDto })
  @ApiProblems('VALIDATION_FAILED', 'MALFORMED_REQUEST', 'UNSUPPORTED_MEDIA_TYPE', 'ADDRESS_IN_USE', 'POLICY_DENIED', 'NAME_IN_USE', 'QUOTA_EXCEEDED', 'CERTIFICATE_NOT_FOUND')
  @Validated({ body: ScenarioDto })
  applyScenario(@Body() body: ScenarioDto, @Owner() caller: Caller): Promise<ScenarioResultDto> {
    return this.scenario.apply(body, caller);
  }

  @Post('mountebank')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Import a mountebank TCP imposter',
    description:
      'Opens a listener whose rules do what the imposter does (docs/scenarios.md): text and binary mode; equals, deepEquals, contains, startsWith, endsWith, matches, and, or, not; ' +
      '`is` responses, used in turn; `repeat`; `wait`; the CONNECTION_RESET_BY_PEER and RANDOM_DATA_THEN_CLOSE faults; defaultResponse. ' +
      'What cannot be carried over (inject, decorate, shellTransform, copy, lookup, proxies, endOfRequestResolver) is refused with 400 listing every place.',
  })
  @ApiBody({ type: MountebankImposterDto, examples: MOUNTEBANK_EXAMPLES })
  @ApiResponse({ status: 201, type: ListenerDto, description: 'The listener, with its rules (GET …/rules)' })
  @ApiProblems('VALIDATION_FAILED', 'MALFORMED_REQUEST', 'UNSUPPORTED_MEDIA_TYPE', 'ADDRESS_IN_USE', 'POLICY_DENIED', 'NAME_IN_USE', 'QUOTA_EXCEEDED')
  @Validated({ body: MountebankImposterDto })
  importMountebank(@Body() body: MountebankImposterDto, @Owner() caller: Caller): Promise<ListenerDto> {
    return this.scenario.importMountebank(body, caller);
  }
}
