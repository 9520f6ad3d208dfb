import { RuleSettings } from '../config/app-config';
import { Injectable } from '@nestjs/common';
import { Caller } from '../auth/caller';
import { PageQueryDto } from '../common/dto/page-query.dto';
import { parseLabelSelector } from '../common/validation';
import { FaultEngine } from '../sockets/faults/fault-engine';
import { UdpProxies, UdpProxy } from '../sockets/proxy/udp-proxies';
import { CreateUdpProxyDto, UdpProxyDto, UdpProxyPageDto, toUdpProxyDto } from './dto/udp-proxy.dto';
import { matchLimitsOf } from '../faults/faults.service';
import { withInlineFaults } from './inline-faults';

/** Translates between the UDP proxy representations and the runtime's UDP proxies and their faults. */
@Injectable()
export class UdpProxiesService {
  constructor(
    private readonly proxies: UdpProxies,
    private readonly faults: FaultEngine,
    private readonly rules: RuleSettings,
  ) {}

  /** Creates the proxy and its faults together: a bad fault leaves no proxy behind. */
  async create(dto: CreateUdpProxyDto, caller: Caller): Promise<UdpProxyDto> {
    const create = () => this.proxies.create({ listen: dto.listen, upstream: dto.upstream, idleTimeoutMs: dto.idleTimeoutMs, maxClients: dto.maxClients, labels: dto.labels, owner: caller.owner });
    const proxy = await withInlineFaults(dto.faults ?? [], this.faults, caller.owner, matchLimitsOf(this.rules), create, (made) => this.proxies.remove(made.id));
    return this.toDto(proxy);
  }

  list(query: PageQueryDto, caller: Caller): UdpProxyPageDto {
    const page = this.proxies.list({ owner: caller.scope, labels: parseLabelSelector(query.label) }, query.limit, query.cursor);
    return { items: page.items.map((proxy) => this.toDto(proxy)), nextCursor: page.nextCursor };
  }

  get(id: string, caller: Caller): UdpProxyDto {
    return this.toDto(this.proxies.get(id, caller.scope));
  }

  remove(id: string, caller: Caller): UdpProxyDto {
    return { ...this.toDto(this.proxies.remove(id, caller.scope)), faults: [] };
  }

  private toDto(proxy: UdpProxy): UdpProxyDto {
    return toUdpProxyDto(proxy, this.faults.list({ target: proxy.id }, 1000).items.map((fault) => fault.id));
  }
}
