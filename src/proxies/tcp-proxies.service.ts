import { Injectable } from '@nestjs/common';
import { Caller } from '../auth/caller';
import { PageQueryDto } from '../common/dto/page-query.dto';
import { parseLabelSelector } from '../common/validation';
import { ApiProblem } from '../common/api-problem';
import { RequestSettings, RuleSettings } from '../config/app-config';
import { TlsService } from '../tls/tls.service';
import { FaultEngine } from '../sockets/faults/fault-engine';
import { TcpProxies } from '../sockets/proxy/tcp-proxies';
import { TcpProxy } from '../sockets/proxy/tcp-proxy';
import { ChangeTcpProxyDto, CreateTcpProxyDto } from './dto/create-tcp-proxy.dto';
import { TcpProxyDto, TcpProxyPageDto, toTcpProxyDto } from './dto/tcp-proxy.dto';
import { matchLimitsOf } from '../faults/faults.service';
import { withInlineFaults } from './inline-faults';

/** Translates between the proxy representations and the runtime's proxies and faults. */
@Injectable()
export class TcpProxiesService {
  constructor(
    private readonly proxies: TcpProxies,
    private readonly faults: FaultEngine,
    private readonly config: RequestSettings,
    private readonly tls: TlsService,
    private readonly rules: RuleSettings,
  ) {}

  /** Creates the proxy and its faults together: a bad fault leaves no proxy behind. */
  async create(dto: CreateTcpProxyDto, caller: Caller): Promise<TcpProxyDto> {
    const listenTls = dto.tls?.listen;
    if (listenTls?.mode === 'starttls') throw new ApiProblem('VALIDATION_FAILED', 'tls.listen.mode: a proxy terminates TLS from the start (implicit) or not at all (off)', {}, [{ field: 'tls.listen.mode', message: 'must be implicit or off' }]);
    const server = listenTls && listenTls.mode !== 'off' ? { mode: 'implicit' as const, server: await this.tls.serverFor(listenTls, caller) } : null;
    const upstreamTls = dto.tls?.upstream && dto.tls.upstream.mode !== 'off' ? this.tls.clientFor(dto.tls.upstream, caller) : null;
    const create = () =>
      this.proxies.create({
      name: dto.name ?? null,
      listen: dto.listen,
      upstream: dto.upstream,
      enabled: dto.enabled,
      record: dto.record,
      whenUpstreamDown: dto.whenUpstreamDown,
      connectTimeoutMs: dto.connectTimeoutMs,
      idleTimeoutMs: dto.idleTimeoutMs ?? this.config.idleTimeoutMs,
      labels: dto.labels,
      owner: caller.owner,
      listenTls: server,
      upstreamTls,
    });
    const proxy = await withInlineFaults(dto.faults ?? [], this.faults, caller.owner, matchLimitsOf(this.rules), create, (made) => this.proxies.remove(made.id));
    return this.toDto(proxy);
  }

  list(query: PageQueryDto, caller: Caller): TcpProxyPageDto {
    const page = this.proxies.list({ owner: caller.scope, labels: parseLabelSelector(query.label) }, query.limit, query.cursor);
    return { items: page.items.map((proxy) => this.toDto(proxy)), nextCursor: page.nextCursor };
  }

  get(id: string, caller: Caller): TcpProxyDto {
    return this.toDto(this.proxies.get(id, caller.scope));
  }

  async change(id: string, dto: ChangeTcpProxyDto, caller: Caller): Promise<TcpProxyDto> {
    const proxy = this.proxies.get(id, caller.scope);
    if (dto.upstream) await this.proxies.setUpstream(proxy, dto.upstream);
    if (dto.enabled !== undefined) await this.proxies.setEnabled(proxy, dto.enabled);
    return this.toDto(proxy);
  }

  async remove(id: string, caller: Caller): Promise<TcpProxyDto> {
    const proxy = this.proxies.get(id, caller.scope);
    const dto = this.toDto(proxy);
    await this.proxies.remove(id, caller.scope);
    return { ...dto, state: proxy.state, enabled: false, pairs: [], faults: [] };
  }

  private toDto(proxy: TcpProxy): TcpProxyDto {
    return toTcpProxyDto(proxy, this.faults.list({ target: proxy.id }, 1000).items.map((fault) => fault.id));
  }
}
