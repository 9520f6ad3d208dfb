import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { ANONYMOUS, Caller } from '../auth/caller';
import { ApiProblem, FieldError } from '../common/api-problem';
import { validateAs } from '../common/route-validation';
import { AppConfig } from '../config/app-config';
import { RuleSetDto } from '../rules/dto/rule-set.dto';
import { RulesService } from '../rules/rules.service';
import { SocketRegistry } from '../sockets/socket-registry';
import { TcpProxiesService } from '../proxies/tcp-proxies.service';
import { TcpProxies } from '../sockets/proxy/tcp-proxies';
import { TcpService } from '../tcp/tcp.service';
import { UdpService } from '../udp/udp.service';
import { CreateListenerDto } from '../tcp/dto/create-listener.dto';
import { ListenerDto } from '../tcp/dto/listener.dto';
import { MountebankImposterDto } from './dto/mountebank.dto';
import { ScenarioDto, ScenarioListenerDto, ScenarioResultDto, ScenarioTcpProxyDto, ScenarioUdpSocketDto } from './dto/scenario.dto';
import { fromMountebank, inImposterTerms } from './mountebank';

type Section = keyof Required<ScenarioDto>;
type Entry = Required<ScenarioDto>[Section][number];
const SECTIONS: readonly Section[] = ['tcpListeners', 'udpSockets', 'tcpProxies'];

/** How a scenario opens, closes and reads back the resources of one section. */
interface SectionKind {
  open(entry: Entry, caller: Caller): Promise<string>;
  close(id: string): Promise<void>;
  /** Whether the resource is still open. */
  isHeld(id: string): boolean;
  /** The port it is bound to (null: not bound). */
  boundPort(id: string): number | null;
  /** The port its entry asks for (0: any free one). */
  portOf(entry: Entry): number;
  /** The entry with the port it should ask for. */
  withPort(entry: Entry, port: number): Entry;
  /** Puts a changed rule set on the open resource; absent: a change of rules replaces it. */
  setRules?(id: string, entry: Entry, caller: Caller): Promise<void>;
  /** The rules an entry carries, compiled before anything opens; absent: it has none. */
  rulesKind?: 'tcp' | 'udp';
}

/** A resource a scenario opened: which one, whose, and the entry it was opened from. */
interface Applied {
  section: Section;
  /** Changes only when a failed apply opens the resource again. */
  id: string;
  owner: string | null;
  spec: Entry;
}

/** A resource an apply closed to remove or replace it, and the port it was bound to (null: it was not open). */
interface Closed {
  key: string;
  applied: Applied;
  port: number | null;
}

/**
 * Applies scenarios: makes the caller's scenario resources match one, idempotently, and exports
 * them in the same form. It remembers the entry each resource was opened from, so applying
 * again can tell what changed; resources it did not open (plain `POST`s) are left alone.
 */
@Injectable()
export class ScenarioService implements OnApplicationBootstrap {
  /** By owner, section and name. */
  private readonly applied = new Map<string, Applied>();

  private readonly kinds: Record<Section, SectionKind>;

  constructor(
    private readonly registry: SocketRegistry,
    private readonly tcp: TcpService,
    private readonly udp: UdpService,
    private readonly rules: RulesService,
    private readonly config: AppConfig,
    proxiesService: TcpProxiesService,
    proxies: TcpProxies,
  ) {
    const socketPort = (id: string): number | null => {
      const resource = this.registry.find(id);
      return resource?.kind === 'tcp-listener' || resource?.kind === 'udp-socket' ? (resource.local?.port ?? null) : null;
    };
    const socketHeld = (id: string): boolean => {
      const resource = this.registry.find(id);
      return resource !== undefined && resource.state !== 'closed';
    };
    this.kinds = {
      tcpListeners: {
        open: async (entry, caller) => (await this.tcp.createListener(entry as ScenarioListenerDto, caller)).id,
        close: async (id) => void (this.registry.find(id) && (await this.registry.closeListener(id, true))),
        isHeld: socketHeld,
        boundPort: socketPort,
        portOf: (entry) => (entry as ScenarioListenerDto).port,
        withPort: (entry, port) => ({ ...(entry as ScenarioListenerDto), port }),
        setRules: (id, entry, caller) => this.rules.setListenerRules(id, (entry as ScenarioListenerDto).rules ?? { rules: [] }, caller).then(() => undefined),
        rulesKind: 'tcp',
      },
      udpSockets: {
        open: async (entry, caller) => (await this.udp.createSocket(entry as ScenarioUdpSocketDto, caller)).id,
        close: async (id) => void (this.registry.find(id) && (await this.registry.closeUdpSocket(id))),
        isHeld: socketHeld,
        boundPort: socketPort,
        portOf: (entry) => (entry as ScenarioUdpSocketDto).port,
        withPort: (entry, port) => ({ ...(entry as ScenarioUdpSocketDto), port }),
        setRules: (id, entry, caller) => this.rules.setUdpRules(id, (entry as ScenarioUdpSocketDto).rules ?? { rules: [] }, caller).then(() => undefined),
        rulesKind: 'udp',
      },
      tcpProxies: {
        open: async (entry, caller) => (await proxiesService.create(entry as ScenarioTcpProxyDto, caller)).id,
        close: async (id) => void (proxies.find(id) && (await proxies.remove(id))),
        isHeld: (id) => proxies.find(id) !== undefined,
        boundPort: (id) => proxies.find(id)?.listener.local?.port ?? null,
        portOf: (entry) => (entry as ScenarioTcpProxyDto).listen.port,
        withPort: (entry, port) => ({ ...(entry as ScenarioTcpProxyDto), listen: { ...(entry as ScenarioTcpProxyDto).listen, port } }),
      },
    };
  }

  /** SOCKPLANE_SCENARIO_FILE: applied before the API answers, so the service comes up serving it. */
  async onApplicationBootstrap(): Promise<void> {
    const path = this.config.scenarioFile;
    if (path === null) return;
    const text = await readFile(path, 'utf8');
    const document: unknown = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
    try {
      validateAs(ScenarioDto, document);
      await this.apply(document as ScenarioDto, ANONYMOUS);
    } catch (err) {
      const detail = err instanceof ApiProblem && err.errors.length > 0 ? err.errors.map((e) => (e.message.startsWith(e.field) ? e.message : `${e.field}: ${e.message}`)).join('; ') : err instanceof Error ? err.message : String(err);
      throw new Error(`SOCKPLANE_SCENARIO_FILE ${path} cannot be applied: ${detail}`, { cause: err });
    }
  }

  /**
   * All or nothing: when a resource cannot be opened (a port in use), what this apply opened is
   * closed, what it had already closed to remove or replace is opened again on the port it had,
   * and the problem is the answer; the caller's scenario is as it was but for the connections
   * of those reopened listeners. Resources are opened before any rules change.
   */
  async apply(dto: ScenarioDto, caller: Caller): Promise<ScenarioResultDto> {
    const entries = this.entriesOf(dto);
    await this.assertValid(entries, caller);
    const result: ScenarioResultDto = { created: [], updated: [], kept: [], replaced: [], removed: [], scenario: {} };
    const wanted = new Set(entries.map(({ section, entry }) => this.key(caller.owner, section, entry.name)));
    const closed: Closed[] = [];
    const opened: Applied[] = [];
    const unchanged: { existing: Applied; entry: Entry; label: string }[] = [];
    try {
      // Removed ones first: a renamed listener may take the port its old name had.
      for (const [key, applied] of this.applied) {
        if (applied.owner !== caller.owner || wanted.has(key)) continue;
        if (this.isHeld(applied)) result.removed.push(`${applied.section}/${applied.spec.name}`);
        closed.push(await this.closeForNow(key, applied));
      }
      for (const { section, index, entry } of entries) {
        const key = this.key(caller.owner, section, entry.name);
        const label = `${section}/${entry.name}`;
        const existing = this.applied.get(key);
        if (existing && this.isHeld(existing)) {
          if (this.sameSetup(existing, entry)) {
            unchanged.push({ existing, entry, label });
            continue;
          }
          closed.push(await this.closeForNow(key, existing));
          result.replaced.push(label);
        } else {
          result.created.push(label);
        }
        const applied: Applied = { section, id: await this.open(section, index, entry, caller), owner: caller.owner, spec: entry };
        opened.push(applied);
        this.applied.set(key, applied);
      }
    } catch (err) {
      await this.undo(opened, closed, caller);
      throw err;
    }
    for (const { key } of closed) if (!wanted.has(key)) this.applied.delete(key);
    for (const { existing, entry, label } of unchanged) {
      if (stableJson(rulesOf(existing.spec)) === stableJson(rulesOf(entry))) result.kept.push(label);
      else {
        await this.kinds[existing.section].setRules?.(existing.id, entry, caller);
        result.updated.push(label);
      }
      existing.spec = entry;
    }
    result.scenario = this.export(caller);
    return result;
  }

  /** A mountebank TCP imposter as a listener with rules; refused whole, every place named, when part of it cannot be carried over. */
  async importMountebank(imposter: MountebankImposterDto, caller: Caller): Promise<ListenerDto> {
    const imported = fromMountebank(imposter);
    const listener: unknown = imported.listener;
    try {
      validateAs(CreateListenerDto, listener);
      return await this.tcp.createListener(listener as CreateListenerDto, caller);
    } catch (err) {
      if (!(err instanceof ApiProblem) || err.code !== 'VALIDATION_FAILED') throw err;
      throw inImposterTerms(err, imported);
    }
  }

  /** The caller's scenario resources still open, each as the entry it was opened from with the port it got. */
  export(caller: Caller): ScenarioDto {
    const scenario: Record<Section, Entry[]> = { tcpListeners: [], udpSockets: [], tcpProxies: [] };
    for (const [key, applied] of this.applied) {
      if (!this.isHeld(applied)) {
        this.applied.delete(key);
        continue;
      }
      if (caller.scope !== null && applied.owner !== caller.scope) continue;
      const kind = this.kinds[applied.section];
      scenario[applied.section].push(kind.withPort(applied.spec, kind.boundPort(applied.id) ?? kind.portOf(applied.spec)));
    }
    return scenario as ScenarioDto;
  }

  private entriesOf(dto: ScenarioDto): { section: Section; index: number; entry: Entry }[] {
    const entries = SECTIONS.flatMap((section) => (dto[section] ?? []).map((entry: Entry, index: number) => ({ section, index, entry })));
    const seen = new Set<string>();
    const errors: FieldError[] = [];
    for (const { section, index, entry } of entries) {
      const key = `${section}/${entry.name}`;
      if (seen.has(key)) errors.push({ field: `${section}[${index}].name`, message: `${section} has two entries named ${entry.name}; names are unique per kind` });
      // A scenario is applied on the node that receives it (docs/cluster.md): an entry cannot be placed elsewhere.
      if ('placement' in entry && entry.placement !== undefined) errors.push({ field: `${section}[${index}].placement`, message: `${section} entry ${entry.name} has a placement; a scenario's resources are made on the node it is applied on` });
      seen.add(key);
    }
    if (errors.length > 0) throw new ApiProblem('VALIDATION_FAILED', errors.map((e) => e.message).join('; '), {}, errors);
    return entries;
  }

  /** Every entry's rules compile, before anything is opened or closed. */
  private async assertValid(entries: { section: Section; index: number; entry: Entry }[], caller: Caller): Promise<void> {
    for (const { section, index, entry } of entries) {
      const { rulesKind } = this.kinds[section];
      const rules = rulesOf(entry);
      if (rulesKind && rules) await this.rules.compile(rules, rulesKind, caller, `${section}[${index}].rules`);
    }
  }

  /** Everything but the rules is as it was (all of it, for a kind without rules); a port of 0 takes the one the resource has. */
  private sameSetup(applied: Applied, entry: Entry): boolean {
    const kind = this.kinds[applied.section];
    const wanted = kind.portOf(entry);
    if (wanted !== 0 && wanted !== kind.boundPort(applied.id)) return false;
    const setup = (spec: Entry): string => stableJson({ ...kind.withPort(spec, 0), ...(kind.setRules ? { rules: undefined } : {}) });
    return setup(applied.spec) === setup(entry);
  }

  /** Opens an entry's resource; a field the opening refuses (an inline fault's) is named within the scenario. */
  private async open(section: Section, index: number, entry: Entry, caller: Caller): Promise<string> {
    try {
      return await this.kinds[section].open(entry, caller);
    } catch (err) {
      if (!(err instanceof ApiProblem) || err.code !== 'VALIDATION_FAILED') throw err;
      const errors = err.errors.map(({ field, message }) => ({ field: `${section}[${index}].${field}`, message }));
      throw new ApiProblem('VALIDATION_FAILED', err.message, err.details, errors);
    }
  }

  /** Closes a resource this apply removes or replaces, remembering the port it had so a failed apply can open it there again. */
  private async closeForNow(key: string, applied: Applied): Promise<Closed> {
    const kind = this.kinds[applied.section];
    const port = kind.isHeld(applied.id) ? kind.boundPort(applied.id) : null;
    await kind.close(applied.id);
    return { key, applied, port };
  }

  /** A failed apply: closes what it opened, opens again what it closed (on the port it had), and the entries are what they were. */
  private async undo(opened: Applied[], closed: Closed[], caller: Caller): Promise<void> {
    for (const applied of opened.reverse()) await this.kinds[applied.section].close(applied.id);
    for (const { key, applied, port } of closed) {
      this.applied.set(key, applied);
      if (port === null) continue;
      try {
        const kind = this.kinds[applied.section];
        applied.id = await kind.open(kind.withPort(applied.spec, port), caller);
      } catch {
        // Its port was taken meanwhile: it stays closed, and the next export forgets it.
      }
    }
  }

  private isHeld(applied: Applied): boolean {
    return this.kinds[applied.section].isHeld(applied.id);
  }

  private key(owner: string | null, section: Section, name: string): string {
    return JSON.stringify([owner, section, name]);
  }
}

/** The rule set an entry carries, if its kind takes one. */
function rulesOf(entry: Entry): RuleSetDto | undefined {
  return 'rules' in entry ? entry.rules : undefined;
}

/** JSON with object keys sorted, so two equal entries compare equal whatever order their fields came in. */
function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item) ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => a.localeCompare(b))) : item,
  );
}
