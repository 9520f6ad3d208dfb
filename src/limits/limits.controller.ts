import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Caller } from '../auth/caller';
import { Owner } from '../auth/owner.decorator';
import { ApiKeyAuth } from '../common/api-docs';
import { LimitsDto } from './dto/limits.dto';
import { LimitsService } from './limits.service';

@ApiTags('Limits')
@ApiKeyAuth()
@Controller('v1/limits')
export class LimitsController {
  constructor(private readonly limits: LimitsService) {}

  @Get()
  @ApiOperation({
    summary: 'Get limits and usage',
    description:
      'Every quota with its limit and what is in use now (sockets in total and for the calling key, bytes held, long-polls, event streams), ' +
      'and the per-request and per-socket limits. A quota reached answers 429 QUOTA_EXCEEDED naming the limit.',
  })
  @ApiResponse({ status: 200, type: LimitsDto })
  getLimits(@Owner() caller: Caller): LimitsDto {
    return this.limits.getLimits(caller);
  }
}
