import { Injectable } from '@nestjs/common';
import { isIP } from 'node:net';
import { Caller } from '../auth/caller';
import { ApiProblem } from '../common/api-problem';
import { isCanonicalHost } from '../common/validation';
import { RequestSettings, RuleSettings } from '../config/app-config';
import { matchLimitsOf, toFaultSpec } from '../faults/faults.service';
import { FaultEngine } from '../sockets/faults/fault-engine';
import { TcpProxies } from '../sockets/proxy/tcp-proxies';
import { TcpProxy } from '../sockets/proxy/tcp-proxy';
import { SocketError } from '../sockets/socket-error';
import { Endpoint } from '../sockets/socket-types';
import { STREAM_DIRECTIONS, TOXICS, ToxicJson } from './toxics';

/** A proxy as Toxiproxy's API shows it. */
export interface ToxiproxyProxyJson {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics: ToxicJson[];
}

/** The version Toxiproxy clients are told: the Toxiproxy API release this one follows. */
export const TOXIPROXY_VERSION = '2.12.0';

type Body = Record<string, unknown>;

/**
 * Toxiproxy's HTTP API over sockplane's proxies and faults: a Toxiproxy proxy is a TCP proxy
 * found by name, a toxic a fault on it named by the toxic's name, whose Toxiproxy form is kept
 * beside it so it reads back as it was sent.
 */
@Injectable()
export class ToxiproxyService {
  private readonly toxics = new Map<string, ToxicJson>();

  constructor(
    private readonly proxies: TcpProxies,
    private readonly faults: FaultEngine,
    private readonly config: RequestSettings,
    private readonly rules: RuleSettings,
  ) {}

  list(caller: Caller): Record<string, ToxiproxyProxyJson> {
    return Object.fromEntries(this.proxies.all(caller.scope).map((proxy) => [proxy.name, this.toJson(proxy)]));
  }

  async create(body: unknown, caller: Caller): Promise<ToxiproxyProxyJson> {
    const fields = proxyFields(body, 'body');
    const proxy = await this.proxies.create({
      name: fields.name,
      listen: fields.listen,
      upstream: fields.upstream,
      enabled: fields.enabled,
      record: false,
      whenUpstreamDown: 'close',
      connectTimeoutMs: 10_000,
      idleTimeoutMs: this.config.idleTimeoutMs,
      labels: { toxiproxy: fields.name },
      owner: caller.owner,
      listenTls: null,
      upstreamTls: null,
    });
    return this.toJson(proxy);
  }

  /** Creates or updates each proxy of the list; one that listens elsewhere now is made anew. */
  async populate(body: unknown, caller: Caller): Promise<{ proxies: ToxiproxyProxyJson[] }> {
    const items = Array.isArray(body) ? body : (body as Body | null)?.proxies;
    if (!Array.isArray(items)) throw invalid('body', 'populate takes a JSON array of proxies');
    const wanted = items.map((item, index) => proxyFields(item, `[${index}]`));
    const answer: ToxiproxyProxyJson[] = [];
    for (const fields of wanted) {
      const existing = this.proxies.findByName(fields.name, caller.scope);
      if (existing && sameListen(existing, fields.listen)) {
        await this.proxies.setUpstream(existing, fields.upstream);
        await this.proxies.setEnabled(existing, fields.enabled);
        answer.push(this.toJson(existing));
        continue;
      }
      if (existing) await this.proxies.remove(existing.id, caller.scope);
      answer.push(await this.create({ ...fields, listen: joinHostPort(fields.listen.host, fields.listen.port), upstream: joinHostPort(fields.upstream.host, fields.upstream.port) }, caller));
    }
    return { proxies: answer };
  }

  get(name: string, caller: Caller): ToxiproxyProxyJson {
    return this.toJson(this.find(name, caller));
  }

  async update(name: string, body: unknown, caller: Caller): Promise<ToxiproxyProxyJson> {
    const proxy = this.find(name, caller);
    const fields = asObject(body, 'body');
    if (fields.upstream !== undefined) {
      const upstream = hostPort(fields.upstream, 'upstream');
      if (upstream.host !== proxy.options.upstream.host || upstream.port !== proxy.options.upstream.port) await this.proxies.setUpstream(proxy, upstream);
    }
    if (fields.listen !== undefined && !sameListen(proxy, hostPort(fields.listen, 'listen'))) {
      throw invalid('listen', 'a proxy keeps its listen address: delete it and create it anew to move it');
    }
    if (fields.enabled !== undefined) await this.proxies.setEnabled(proxy, boolean(fields.enabled, 'enabled'));
    return this.toJson(proxy);
  }

  async remove(name: string, caller: Caller): Promise<void> {
    await this.proxies.remove(this.find(name, caller).id, caller.scope);
  }

  /** Every proxy enabled again, every toxic removed (Toxiproxy's reset). */
  async reset(caller: Caller): Promise<void> {
    for (const proxy of this.proxies.all(caller.scope)) {
      for (const fault of this.faults.all(caller.scope).filter((f) => f.spec.target === proxy.id)) this.removeFault(fault.id);
      await this.proxies.setEnabled(proxy, true);
    }
  }

  listToxics(name: string, caller: Caller): ToxicJson[] {
    return this.toJson(this.find(name, caller)).toxics;
  }

  addToxic(name: string, body: unknown, caller: Caller): ToxicJson {
    const proxy = this.find(name, caller);
    const toxic = toxicFields(body);
    this.createFault(proxy, toxic, caller);
    return toxic;
  }

  getToxic(name: string, toxicName: string, caller: Caller): ToxicJson {
    return this.findToxic(this.find(name, caller), toxicName).toxic;
  }

  /** Changes a toxic's attributes (merged, as Toxiproxy does) or toxicity; it is made anew with the same name. */
  updateToxic(name: string, toxicName: string, body: unknown, caller: Caller): ToxicJson {
    const proxy = this.find(name, caller);
    const { faultId, toxic } = this.findToxic(proxy, toxicName);
    const fields = asObject(body, 'body');
    const merged = toxicFields({
      ...toxic,
      ...(fields.toxicity === undefined ? {} : { toxicity: fields.toxicity }),
      ...(fields.stream === undefined ? {} : { stream: fields.stream }),
      attributes: { ...toxic.attributes, ...asObject(fields.attributes ?? {}, 'attributes') },
    });
    this.removeFault(faultId);
    this.createFault(proxy, merged, caller);
    return merged;
  }

  removeToxic(name: string, toxicName: string, caller: Caller): void {
    this.removeFault(this.findToxic(this.find(name, caller), toxicName).faultId);
  }

  /** Forgets the Toxiproxy form of faults that are gone (their proxy was deleted, through either API). */
  private sweep(): void {
    const live = new Set(this.faults.all().map((fault) => fault.id));
    for (const faultId of this.toxics.keys()) if (!live.has(faultId)) this.toxics.delete(faultId);
  }

  private createFault(proxy: TcpProxy, toxic: ToxicJson, caller: Caller): void {
    this.sweep();
    const mapping = TOXICS[toxic.type];
    const spec = toFaultSpec(
      {
        name: toxic.name,
        type: mapping.fault,
        direction: STREAM_DIRECTIONS[toxic.stream],
        attributes: mapping.toFault(toxic.attributes),
        select: { probability: toxic.toxicity },
      },
      proxy.id,
      '',
      matchLimitsOf(this.rules),
    );
    const fault = this.faults.create(spec, caller.owner);
    this.toxics.set(fault.id, toxic);
  }

  private removeFault(faultId: string): void {
    this.toxics.delete(faultId);
    this.faults.remove(faultId);
  }

  private find(name: string, caller: Caller): TcpProxy {
    const proxy = this.proxies.findByName(name, caller.scope);
    if (!proxy) throw new SocketError('SOCKET_NOT_FOUND', `proxy not found: no proxy named ${name}`, { name });
    return proxy;
  }

  private findToxic(proxy: TcpProxy, toxicName: string): { faultId: string; toxic: ToxicJson } {
    for (const fault of this.faults.all(proxy.owner)) {
      const toxic = this.toxics.get(fault.id);
      if (fault.spec.target === proxy.id && toxic?.name === toxicName) return { faultId: fault.id, toxic };
    }
    throw new SocketError('FAULT_NOT_FOUND', `toxic not found: ${proxy.name} has no toxic named ${toxicName}`, { name: toxicName });
  }

  private toJson(proxy: TcpProxy): ToxiproxyProxyJson {
    // Faults whose toxic form is gone (ended) are left out, as are faults made through /v1/faults.
    const toxics = this.faults
      .all(proxy.owner)
      .filter((fault) => fault.spec.target === proxy.id)
      .flatMap((fault) => this.toxics.get(fault.id) ?? []);
    const { host, port } = proxy.options.upstream;
    return { name: proxy.name, listen: formatEndpoint(proxy.listener.local), upstream: joinHostPort(host, port), enabled: proxy.enabled, toxics };
  }
}

function invalid(field: string, message: string): ApiProblem {
  return new ApiProblem('VALIDATION_FAILED', `${field}: ${message}`, {}, [{ field, message }]);
}

function asObject(value: unknown, field: string): Body {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(field, 'must be a JSON object');
  return value as Body;
}

function boolean(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw invalid(field, 'must be true or false');
  return value;
}

/** `host:port`, `[v6]:port`, or `:port` (the loopback address; this service never binds every interface unasked). */
function hostPort(value: unknown, field: string): { host: string; port: number } {
  const text = typeof value === 'string' ? value : '';
  const match = /^\[([0-9A-Fa-f:.]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:[\]]*):(\d{1,5})$/.exec(text);
  const port = match ? Number(match[2]) : -1;
  const host = match ? match[1] || '127.0.0.1' : '';
  if (!match || port > 65535 || !isCanonicalHost(host)) throw invalid(field, `must be host:port (such as 127.0.0.1:6379 or [::1]:6379), not ${JSON.stringify(value)}`);
  return { host, port };
}

function proxyFields(value: unknown, where: string): { name: string; listen: { host: string; port: number }; upstream: { host: string; port: number }; enabled: boolean } {
  const body = asObject(value, where);
  const prefix = where === 'body' ? '' : `${where}.`;
  const name = body.name;
  if (typeof name !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(name)) throw invalid(`${prefix}name`, 'must be 1-64 letters, digits and . _ -');
  const listen = hostPort(body.listen ?? '127.0.0.1:0', `${prefix}listen`);
  if (listen.host !== 'localhost' && isIP(listen.host) === 0) throw invalid(`${prefix}listen`, 'must listen on an IP address or localhost');
  const upstream = hostPort(body.upstream, `${prefix}upstream`);
  if (upstream.port === 0) throw invalid(`${prefix}upstream`, 'needs a port other than 0');
  return { name, listen, upstream, enabled: body.enabled === undefined ? true : boolean(body.enabled, `${prefix}enabled`) };
}

function toxicFields(value: unknown): ToxicJson {
  const body = asObject(value, 'body');
  const type = body.type;
  if (typeof type !== 'string' || !(type in TOXICS)) throw invalid('type', `must be one of ${Object.keys(TOXICS).join(', ')}`);
  const stream = body.stream ?? 'downstream';
  if (stream !== 'upstream' && stream !== 'downstream') throw invalid('stream', 'must be upstream or downstream');
  const toxicity = body.toxicity ?? 1;
  if (typeof toxicity !== 'number' || toxicity < 0 || toxicity > 1) throw invalid('toxicity', 'must be a number from 0 to 1');
  const name = body.name ?? `${type}_${stream}`;
  if (typeof name !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(name)) throw invalid('name', 'must be 1-64 letters, digits and . _ -');
  const given = asObject(body.attributes ?? {}, 'attributes');
  const { defaults } = TOXICS[type];
  const attributes: Record<string, number> = { ...defaults };
  for (const [key, raw] of Object.entries(given)) {
    if (!(key in defaults)) throw invalid(`attributes.${key}`, `${type} takes ${Object.keys(defaults).join(', ')}`);
    if (!Number.isInteger(raw) || (raw as number) < 0) throw invalid(`attributes.${key}`, 'must be a whole number, 0 or more');
    attributes[key] = raw as number;
  }
  return { name, type, stream, toxicity, attributes };
}

function sameListen(proxy: TcpProxy, listen: { host: string; port: number }): boolean {
  const local = proxy.listener.local;
  return local !== null && (listen.port === 0 || listen.port === local.port) && (listen.host === local.address || listen.host === 'localhost');
}

function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function formatEndpoint(endpoint: Endpoint | null): string {
  return endpoint === null ? '' : joinHostPort(endpoint.address, endpoint.port);
}
