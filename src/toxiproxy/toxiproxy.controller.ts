import { Body, Controller, Delete, Get, Header, HttpCode, Param, Post } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Caller } from '../auth/caller';
import { Owner } from '../auth/owner.decorator';
import { ToxicJson } from './toxics';
import { TOXIPROXY_VERSION, ToxiproxyProxyJson, ToxiproxyService } from './toxiproxy.service';

/**
 * Toxiproxy's HTTP API, its paths, JSON shapes and status codes, under `/toxiproxy` (and on a
 * port of its own when configured). Toxiproxy documents it; docs/toxiproxy.md says how it maps
 * to proxies and faults, so it stays out of this service's OpenAPI document. Errors are
 * problem+json like everywhere else, whose `status` Toxiproxy's clients read.
 */
@ApiExcludeController()
@Controller('toxiproxy')
export class ToxiproxyController {
  constructor(private readonly toxiproxy: ToxiproxyService) {}

  @Get('version')
  @Header('content-type', 'text/plain; charset=utf-8')
  version(): string {
    return TOXIPROXY_VERSION;
  }

  @Get('proxies')
  listProxies(@Owner() caller: Caller): Record<string, ToxiproxyProxyJson> {
    return this.toxiproxy.list(caller);
  }

  @Post('proxies')
  @HttpCode(201)
  createProxy(@Body() body: unknown, @Owner() caller: Caller): Promise<ToxiproxyProxyJson> {
    return this.toxiproxy.create(body, caller);
  }

  @Post('populate')
  @HttpCode(201)
  populate(@Body() body: unknown, @Owner() caller: Caller): Promise<{ proxies: ToxiproxyProxyJson[] }> {
    return this.toxiproxy.populate(body, caller);
  }

  @Post('reset')
  @HttpCode(204)
  reset(@Owner() caller: Caller): Promise<void> {
    return this.toxiproxy.reset(caller);
  }

  @Get('proxies/:name')
  getProxy(@Param('name') name: string, @Owner() caller: Caller): ToxiproxyProxyJson {
    return this.toxiproxy.get(name, caller);
  }

  @Post('proxies/:name')
  @HttpCode(200)
  updateProxy(@Param('name') name: string, @Body() body: unknown, @Owner() caller: Caller): Promise<ToxiproxyProxyJson> {
    return this.toxiproxy.update(name, body, caller);
  }

  @Delete('proxies/:name')
  @HttpCode(204)
  deleteProxy(@Param('name') name: string, @Owner() caller: Caller): Promise<void> {
    return this.toxiproxy.remove(name, caller);
  }

  @Get('proxies/:name/toxics')
  listToxics(@Param('name') name: string, @Owner() caller: Caller): ToxicJson[] {
    return this.toxiproxy.listToxics(name, caller);
  }

  @Post('proxies/:name/toxics')
  @HttpCode(200)
  addToxic(@Param('name') name: string, @Body() body: unknown, @Owner() caller: Caller): ToxicJson {
    return this.toxiproxy.addToxic(name, body, caller);
  }

  @Get('proxies/:name/toxics/:toxic')
  getToxic(@Param('name') name: string, @Param('toxic') toxic: string, @Owner() caller: Caller): ToxicJson {
    return this.toxiproxy.getToxic(name, toxic, caller);
  }

  @Post('proxies/:name/toxics/:toxic')
  @HttpCode(200)
  updateToxic(@Param('name') name: string, @Param('toxic') toxic: string, @Body() body: unknown, @Owner() caller: Caller): ToxicJson {
    return this.toxiproxy.updateToxic(name, toxic, body, caller);
  }

  @Delete('proxies/:name/toxics/:toxic')
  @HttpCode(204)
  deleteToxic(@Param('name') name: string, @Param('toxic') toxic: string, @Owner() caller: Caller): void {
    this.toxiproxy.removeToxic(name, toxic, caller);
  }
}
