import { Injectable } from '@nestjs/common';
import { Caller } from '../auth/caller';
import { ApiProblem } from '../common/api-problem';
import { RuleSettings } from '../config/app-config';
import { RuleInvalid } from '../sockets/rules/spec-reader';
import { RuleHostKind, RuleSet, compileRuleSet } from '../sockets/rules/rule-set';
import { SocketRegistry } from '../sockets/socket-registry';
import { TcpConnection } from '../sockets/tcp-connection';
import { TlsServer } from '../sockets/tls/tls-session';
import { TlsService } from '../tls/tls.service';
import { RuleSetDto, RulesDto, toListenerRulesDto, toRunningRulesDto } from './dto/rule-set.dto';

/**
 * Compiles rule sets (once: a bad one answers 400 naming the field) and puts them on
 * listeners, connections and UDP sockets; reads them back with their counts.
 */
@Injectable()
export class RulesService {
  constructor(
    private readonly registry: SocketRegistry,
    private readonly settings: RuleSettings,
    private readonly tls: TlsService,
  ) {}

  /**
   * A rule set written by a caller, compiled for a kind of host; `field` prefixes the paths of
   * the fields a refusal names. `startTls` actions get the TLS server of `listenerTls` (the
   * listener's own) or default settings, and the client role trusts the instance CA.
   */
  async compile(spec: RuleSetDto, kind: RuleHostKind, caller: Caller, field = '', listenerTls: TlsServer | null = null): Promise<RuleSet> {
    let set: RuleSet;
    try {
      set = compileRuleSet(spec, kind, { maxRules: this.settings.rulesMaxRules, maxPatternBytes: this.settings.rulesMaxPatternBytes, maxReplyBytes: this.settings.rulesMaxReplyBytes }, field);
    } catch (err) {
      if (!(err instanceof RuleInvalid)) throw err;
      throw new ApiProblem('VALIDATION_FAILED', err.message, {}, [{ field: err.field, message: err.message }]);
    }
    if (set.uses('startTls')) {
      set.tls = {
        server: listenerTls ?? (await this.tls.serverFor({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', requestClientCert: false }, caller)),
        client: this.tls.clientFor({ mode: 'implicit', ca: 'instance', rejectUnauthorized: true }, caller),
      };
    }
    return set;
  }

  getListenerRules(id: string, caller: Caller): RulesDto {
    return toListenerRulesDto(this.registry.getListener(id, caller.scope).rules);
  }

  async setListenerRules(id: string, dto: RuleSetDto, caller: Caller): Promise<RulesDto> {
    const listener = this.registry.getListener(id, caller.scope);
    listener.setRules(await this.compile(dto, 'tcp', caller, '', listener.options.tls?.server ?? null));
    return toListenerRulesDto(listener.rules);
  }

  getConnectionRules(id: string, caller: Caller): RulesDto {
    return toRunningRulesDto(this.registry.getConnection(id, caller.scope).rules);
  }

  async setConnectionRules(id: string, dto: RuleSetDto, caller: Caller): Promise<RulesDto> {
    const connection = this.registry.getConnection(id, caller.scope);
    const set = await this.compile(dto, 'tcp', caller, '', this.listenerTlsOf(connection));
    this.registry.setConnectionRules(connection, set);
    return toRunningRulesDto(connection.rules);
  }

  getUdpRules(id: string, caller: Caller): RulesDto {
    return toRunningRulesDto(this.registry.getUdpSocket(id, caller.scope).rules);
  }

  async setUdpRules(id: string, dto: RuleSetDto, caller: Caller): Promise<RulesDto> {
    const socket = this.registry.getUdpSocket(id, caller.scope);
    this.registry.setUdpRules(socket, await this.compile(dto, 'udp', caller));
    return toRunningRulesDto(socket.rules);
  }

  /** The TLS server of the listener that accepted the connection, which a `startTls` rule in the server role takes. */
  private listenerTlsOf(connection: TcpConnection): TlsServer | null {
    const listener = connection.listenerId === null ? undefined : this.registry.find(connection.listenerId);
    return listener?.kind === 'tcp-listener' ? (listener.options.tls?.server ?? null) : null;
  }
}
