import { Body, Controller, Get, HttpCode, Param, Put } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Caller } from '../auth/caller';
import { Owner } from '../auth/owner.decorator';
import { ApiIdParam, ApiKeyAuth, ApiProblems } from '../common/api-docs';
import { Validated } from '../common/route-validation';
import { RuleSetDto, RulesDto } from './dto/rule-set.dto';
import { TCP_RULE_EXAMPLES, UDP_RULE_EXAMPLES } from './rule-examples';
import { RulesService } from './rules.service';

const PUT_DESCRIPTION =
  'Replaces the rules: an ordered list, first match wins (docs/rules.md). The set is compiled once — a bad one answers 400 naming the field — ' +
  'and applies from the next frame on; the counts start from zero and the current state carries over. `{"rules": []}` takes them away.';

@ApiTags('Reply rules')
@ApiKeyAuth()
@Controller('v1')
export class RulesController {
  constructor(private readonly rules: RulesService) {}

  @Get('tcp/listeners/:id/rules')
  @ApiIdParam('listener')
  @ApiOperation({ summary: 'Get a listener’s reply rules', description: 'The rules each connection it accepts starts with, and how often each matched across those connections.' })
  @ApiResponse({ status: 200, type: RulesDto })
  @ApiProblems('SOCKET_NOT_FOUND')
  getListenerRules(@Param('id') id: string, @Owner() caller: Caller): RulesDto {
    return this.rules.getListenerRules(id, caller);
  }

  @Put('tcp/listeners/:id/rules')
  @HttpCode(200)
  @ApiIdParam('listener')
  @ApiOperation({
    summary: 'Set a listener’s reply rules',
    description: `${PUT_DESCRIPTION} Connections it accepts from then on get a copy of their own; those already accepted keep theirs.`,
  })
  @ApiBody({ type: RuleSetDto, examples: TCP_RULE_EXAMPLES })
  @ApiResponse({ status: 200, type: RulesDto })
  @ApiProblems('VALIDATION_FAILED', 'MALFORMED_REQUEST', 'UNSUPPORTED_MEDIA_TYPE', 'SOCKET_NOT_FOUND')
  @Validated({ body: RuleSetDto })
  setListenerRules(@Param('id') id: string, @Body() body: RuleSetDto, @Owner() caller: Caller): Promise<RulesDto> {
    return this.rules.setListenerRules(id, body, caller);
  }

  @Get('tcp/connections/:id/rules')
  @ApiIdParam('connection')
  @ApiOperation({ summary: 'Get a connection’s reply rules', description: 'Its rules, how often each matched, when last, what is left of each `times`, and its current state.' })
  @ApiResponse({ status: 200, type: RulesDto })
  @ApiProblems('SOCKET_NOT_FOUND')
  getConnectionRules(@Param('id') id: string, @Owner() caller: Caller): RulesDto {
    return this.rules.getConnectionRules(id, caller);
  }

  @Put('tcp/connections/:id/rules')
  @HttpCode(200)
  @ApiIdParam('connection')
  @ApiOperation({ summary: 'Set a connection’s reply rules', description: PUT_DESCRIPTION })
  @ApiBody({ type: RuleSetDto, examples: TCP_RULE_EXAMPLES })
  @ApiResponse({ status: 200, type: RulesDto })
  @ApiProblems('VALIDATION_FAILED', 'MALFORMED_REQUEST', 'UNSUPPORTED_MEDIA_TYPE', 'SOCKET_NOT_FOUND')
  @Validated({ body: RuleSetDto })
  setConnectionRules(@Param('id') id: string, @Body() body: RuleSetDto, @Owner() caller: Caller): Promise<RulesDto> {
    return this.rules.setConnectionRules(id, body, caller);
  }

  @Get('udp/sockets/:id/rules')
  @ApiIdParam('udpSocket')
  @ApiOperation({ summary: 'Get a UDP socket’s reply rules', description: 'Its rules, how often each matched, when last, what is left of each `times`, and its current state.' })
  @ApiResponse({ status: 200, type: RulesDto })
  @ApiProblems('SOCKET_NOT_FOUND')
  getUdpRules(@Param('id') id: string, @Owner() caller: Caller): RulesDto {
    return this.rules.getUdpRules(id, caller);
  }

  @Put('udp/sockets/:id/rules')
  @HttpCode(200)
  @ApiIdParam('udpSocket')
  @ApiOperation({ summary: 'Set a UDP socket’s reply rules', description: `${PUT_DESCRIPTION} Rules act on each datagram (\`on: datagram\`) and reply to its sender unless \`to\` says otherwise.` })
  @ApiBody({ type: RuleSetDto, examples: UDP_RULE_EXAMPLES })
  @ApiResponse({ status: 200, type: RulesDto })
  @ApiProblems('VALIDATION_FAILED', 'MALFORMED_REQUEST', 'UNSUPPORTED_MEDIA_TYPE', 'SOCKET_NOT_FOUND')
  @Validated({ body: RuleSetDto })
  setUdpRules(@Param('id') id: string, @Body() body: RuleSetDto, @Owner() caller: Caller): Promise<RulesDto> {
    return this.rules.setUdpRules(id, body, caller);
  }
}
