import { Injectable } from '@nestjs/common';
import { Caller } from '../auth/caller';
import { PageQueryDto } from '../common/dto/page-query.dto';
import { parseLabelSelector } from '../common/validation';
import { toFaultSpec } from '../faults/faults.service';
import { FaultEngine } from '../sockets/faults/fault-engine';
import { UdpProxies, UdpProxy } from '../sockets/proxy/udp-proxies';
import { CreateUdpProxyDto, UdpProxyDto, UdpProxyPageDto, toUdpProxyDto } from './dto/udp-proxy.dto';

/** Translates between the UDP proxy representations and the runtime's UDP proxies and their faults. */
@Injectable()
export class UdpProxiesService {
  constructor(
    private readonly proxies: UdpProxies,
    private readonly faults: FaultEngine,
  ) {}

  /** Creates the proxy and its faults together: a bad fault leaves no proxy behind. */
  async create(dto: CreateUdpProxyDto, caller: Caller): Promise<UdpProxyDto> {
    const inline = dto.faults ?? [];
    inline.forEach((fault, index) => toFaultSpec(fault, '', `faults[${index}].`));
    const proxy = await this.proxies.create({ listen: dto.listen, upstream: dto.upstream, idleTimeoutMs: dto.idleTimeoutMs, labels: dto.labels, owner: caller.owner });
    try {
      inline.forEach((fault) => this.faults.create(toFaultSpec(fault, proxy.id), caller.owner));
    } catch (err) {
      this.proxies.remove(proxy.id);
      throw err;
    }
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
