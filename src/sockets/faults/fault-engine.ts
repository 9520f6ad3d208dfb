import { Page, paginate } from '../pagination';
import { SocketError } from '../socket-error';
import { SocketEventIn } from '../socket-events';
import { SocketRegistry } from '../socket-registry';
import { TcpConnection } from '../tcp-connection';
import { Fault, FaultChange, FaultSpec, FaultState } from './fault';
import { actsOn } from './fault-types';
import { TcpFaultStage } from './tcp-fault-stage';

/** The events the engine acts on: a connection accepted gets the faults that select it; a closed one, or a closed listener, takes its faults away. */
const FAULT_ENGINE_EVENTS = ['connection.accepted', 'connection.closed', 'listener.closed'] as const;

/**
 * A resource faults can target besides listeners and connections, as its owner registered it:
 * a TCP proxy (its faults act on what its listener accepts) or a UDP proxy (told its faults
 * whenever they change, to apply per datagram).
 */
export type FaultTarget =
  | { id: string; owner: string | null; protocol: 'tcp'; listenerId: string }
  | { id: string; owner: string | null; protocol: 'udp'; faultsChanged: (faults: Fault[]) => void };

export interface FaultFilter {
  owner?: string | null;
  target?: string;
}

/** Where a fault sits on one connection. */
interface Placement {
  fault: Fault;
  stage: TcpFaultStage;
}

/**
 * Every fault, and where each acts. A fault on a connection acts on it; on a listener or a
 * proxy, on the connections it accepts from then on and those it holds already. Faults are
 * stages on the connections' chains, spliced in right after the head (nearest the transport).
 * A fault whose target goes away goes with it; one whose time runs out ends (`fault.expired`).
 */
export class FaultEngine {
  private readonly faults = new Map<string, Fault>();
  private readonly placements = new Map<string, Map<string, Placement>>();
  private readonly targets = new Map<string, FaultTarget>();
  private readonly targetByListener = new Map<string, string>();
  private readonly expiryTimers = new Map<string, NodeJS.Timeout>();
  private readonly unsubscribe: () => void;

  constructor(private readonly registry: SocketRegistry) {
    this.unsubscribe = registry.events.subscribe((event) => this.onEvent(event), FAULT_ENGINE_EVENTS);
  }

  /** Makes `target` (a proxy) a target faults can name; its faults act on what `listenerId` accepts. */
  registerTarget(target: FaultTarget): void {
    this.targets.set(target.id, target);
    if (target.protocol === 'tcp') this.targetByListener.set(target.listenerId, target.id);
  }

  /** The target is gone: so are its faults. */
  unregisterTarget(id: string): void {
    const target = this.targets.get(id);
    if (!target) return;
    this.removeFaultsOf(id);
    this.targets.delete(id);
    if (target.protocol === 'tcp') this.targetByListener.delete(target.listenerId);
  }

  /** Checks a fault could be created (its target exists and is the caller's, its type fits), without creating it. */
  check(spec: FaultSpec, owner?: string | null): void {
    const kind = this.targetKind(spec.target, owner);
    const protocol = kind === 'udp-proxy' ? 'udp' : 'tcp';
    if (!actsOn(spec.type, protocol)) {
      throw new SocketError('FAULT_NOT_APPLICABLE', `${spec.type} does not act on ${protocol === 'udp' ? 'UDP datagrams' : 'TCP connections'}, and ${spec.target} carries ${protocol.toUpperCase()}`, { field: 'type' });
    }
    if (spec.type === 'refuse' && kind === 'tcp-connection') {
      throw new SocketError('FAULT_NOT_APPLICABLE', `refuse turns new connections away: target a listener or a proxy, not connection ${spec.target}`, { field: 'type' });
    }
    if (spec.type === 'slowClose' && kind !== 'tcp-proxy') {
      throw new SocketError('FAULT_NOT_APPLICABLE', `slowClose delays the close a proxy passes on: target a proxy, not ${spec.target}`, { field: 'type' });
    }
    if (spec.name !== null && [...this.faults.values()].some((f) => f.spec.target === spec.target && f.spec.name === spec.name)) {
      throw new SocketError('FAULT_EXISTS', `${spec.target} has a fault named ${spec.name} already`, { name: spec.name });
    }
  }

  create(spec: FaultSpec, owner: string | null): Fault {
    this.check(spec, owner);
    const { id, seq } = this.registry.nextId('ft');
    const fault = new Fault(id, seq, owner, spec);
    this.faults.set(id, fault);
    this.scheduleExpiry(fault);
    if (spec.type !== 'refuse') for (const connection of this.connectionsOf(spec.target)) this.place(fault, connection);
    this.tellDatagramTarget(spec.target);
    return fault;
  }

  get(id: string, owner?: string | null): Fault {
    const fault = this.faults.get(id);
    if (!fault || (owner !== undefined && owner !== null && fault.owner !== owner)) throw new SocketError('FAULT_NOT_FOUND', `no fault with id ${id}`, { id });
    return fault;
  }

  list(filter: FaultFilter, limit: number, cursor?: string): Page<Fault> {
    const visible = (fault: Fault): boolean =>
      (filter.owner === undefined || filter.owner === null || fault.owner === filter.owner) && (filter.target === undefined || fault.spec.target === filter.target);
    return paginate(this.faults.values(), visible, limit, cursor);
  }

  /** Faults visible to `owner` (all of them when null), in creation order. */
  all(owner?: string | null): Fault[] {
    return [...this.faults.values()].filter((fault) => owner === undefined || owner === null || fault.owner === owner);
  }

  /** Changes a fault in place: its stages are replaced with ones that act the new way; its rolls stay. */
  change(id: string, change: FaultChange, owner?: string | null): Fault {
    const fault = this.get(id, owner);
    fault.change(change);
    this.scheduleExpiry(fault);
    // A copy: replacing a stage removes and re-adds the connection's entry, which a live iteration would visit again.
    for (const [connectionId, byFault] of [...this.placements]) {
      const placement = byFault.get(id);
      if (!placement) continue;
      const connection = this.registry.find(connectionId);
      this.unplace(connectionId, id, 'flush');
      if (connection?.kind === 'tcp-connection') this.place(fault, connection);
    }
    this.tellDatagramTarget(fault.spec.target);
    return fault;
  }

  remove(id: string, owner?: string | null): Fault {
    const fault = this.get(id, owner);
    this.drop(fault);
    return fault;
  }

  /** Replaces every fault `owner` holds with `specs`, all or nothing: each is checked before any is touched. */
  replaceAll(specs: readonly FaultSpec[], owner: string | null): Fault[] {
    const names = new Set<string>();
    for (const spec of specs) {
      this.check({ ...spec, name: null }, owner);
      if (spec.name === null) continue;
      const key = `${spec.target} ${spec.name}`;
      if (names.has(key)) throw new SocketError('FAULT_EXISTS', `two faults are named ${spec.name} on ${spec.target}`, { name: spec.name });
      names.add(key);
    }
    for (const fault of this.all(owner)) this.drop(fault);
    return specs.map((spec) => this.create(spec, owner));
  }

  /**
   * Applies the faults on a listener (or the proxy it serves) to a connection it just accepted.
   * Returns false when a `refuse` fault turned it away (it is being reset).
   */
  applyToAccepted(connection: TcpConnection): boolean {
    const listenerId = connection.listenerId;
    if (listenerId === null) return true;
    const targets = [listenerId, this.targetByListener.get(listenerId)];
    let admitted = true;
    for (const fault of this.faults.values()) {
      if (!targets.includes(fault.spec.target)) continue;
      if (this.place(fault, connection) && fault.spec.type === 'refuse') admitted = false;
    }
    return admitted;
  }

  /** How long closing this proxy half waits because of a `slowClose` fault (0 = none). */
  closeDelayFor(connection: TcpConnection): number {
    let delay = 0;
    for (const { fault } of this.placements.get(connection.id)?.values() ?? []) {
      if (fault.spec.type === 'slowClose') delay = Math.max(delay, Number(fault.spec.attributes.delayMs));
    }
    return delay;
  }

  /** Calls `done` once every fault on the connection has passed on what it holds for the peer. */
  whenSentDrained(connection: TcpConnection, done: () => void): void {
    const stages = [...(this.placements.get(connection.id)?.values() ?? [])].map((p) => p.stage);
    let left = stages.length + 1;
    const one = (): void => {
      if (--left === 0) done();
    };
    for (const stage of stages) stage.whenSentDrained(one);
    one();
  }

  /** Bytes the fault holds back now, over every connection it acts on. */
  heldBytesOf(faultId: string): number {
    let bytes = 0;
    for (const byFault of this.placements.values()) bytes += byFault.get(faultId)?.stage.heldBytes ?? 0;
    return bytes;
  }

  /** Connections the fault acts on now. */
  placedOn(faultId: string): string[] {
    return [...this.placements].filter(([, byFault]) => byFault.has(faultId)).map(([connectionId]) => connectionId);
  }

  /** Ends every fault and stops every timer (shutdown). */
  closeAll(): void {
    for (const fault of [...this.faults.values()]) this.drop(fault);
    this.unsubscribe();
  }

  /** Nest calls this on shutdown, as it does the registry's. */
  beforeApplicationShutdown(): void {
    this.closeAll();
  }

  private onEvent(event: SocketEventIn<typeof FAULT_ENGINE_EVENTS>): void {
    switch (event.type) {
      case 'connection.accepted': {
        const listenerId = event.data.listenerId;
        // A proxy's listener: the proxy applies its faults before it dials the upstream.
        if (listenerId === null || this.targetByListener.has(listenerId)) return;
        const connection = this.registry.find(event.resourceId);
        if (connection?.kind === 'tcp-connection') this.applyToAccepted(connection);
        return;
      }
      case 'connection.closed':
        this.forgetConnection(event.resourceId);
        this.removeFaultsOf(event.resourceId);
        return;
      case 'listener.closed':
        this.removeFaultsOf(event.resourceId);
        return;
      default:
        return;
    }
  }

  /** Puts the fault on the connection if it selects it; true when it did. */
  private place(fault: Fault, connection: TcpConnection): boolean {
    if (connection.state === 'closed' || !fault.selects(connection.id, connection.remote)) return false;
    const stage = new TcpFaultStage(fault, connection, () => {
      fault.countTriggered();
      this.registry.events.publish(connection, 'fault.triggered', { faultId: fault.id, type: fault.spec.type });
    });
    let byFault = this.placements.get(connection.id);
    if (!byFault) this.placements.set(connection.id, (byFault = new Map()));
    byFault.set(fault.id, { fault, stage });
    connection.stages.add(stage);
    fault.countApplied();
    this.registry.events.publish(connection, 'fault.applied', { faultId: fault.id, type: fault.spec.type });
    stage.start();
    return true;
  }

  private unplace(connectionId: string, faultId: string, held: 'flush' | 'drop'): void {
    const byFault = this.placements.get(connectionId);
    const placement = byFault?.get(faultId);
    if (!byFault || !placement) return;
    byFault.delete(faultId);
    if (byFault.size === 0) this.placements.delete(connectionId);
    const connection = this.registry.find(connectionId);
    if (connection?.kind === 'tcp-connection' && connection.stages.names.includes(placement.stage.name)) connection.stages.remove(placement.stage.name);
    if (held === 'flush') placement.stage.remove();
    else placement.stage.dispose();
  }

  private forgetConnection(connectionId: string): void {
    for (const faultId of [...(this.placements.get(connectionId)?.keys() ?? [])]) this.unplace(connectionId, faultId, 'drop');
    for (const fault of this.faults.values()) fault.forget(connectionId);
  }

  private drop(fault: Fault, expired = false): void {
    if (!this.faults.delete(fault.id)) return;
    fault.end();
    const timer = this.expiryTimers.get(fault.id);
    if (timer) clearTimeout(timer);
    this.expiryTimers.delete(fault.id);
    for (const [connectionId, byFault] of [...this.placements]) {
      if (!byFault.has(fault.id)) continue;
      const connection = this.registry.find(connectionId);
      this.unplace(connectionId, fault.id, 'flush');
      if (expired && connection) this.registry.events.publish(connection, 'fault.expired', { faultId: fault.id, type: fault.spec.type });
    }
    this.tellDatagramTarget(fault.spec.target);
  }

  /** A UDP proxy is told its faults, in creation order, whenever they change. */
  private tellDatagramTarget(targetId: string): void {
    const target = this.targets.get(targetId);
    if (target?.protocol !== 'udp') return;
    target.faultsChanged([...this.faults.values()].filter((fault) => fault.spec.target === targetId));
  }

  private removeFaultsOf(targetId: string): void {
    for (const fault of [...this.faults.values()]) if (fault.spec.target === targetId) this.drop(fault);
  }

  private scheduleExpiry(fault: Fault): void {
    const previous = this.expiryTimers.get(fault.id);
    if (previous) clearTimeout(previous);
    this.expiryTimers.delete(fault.id);
    const { expiresAfterMs } = fault.spec;
    if (expiresAfterMs === null || fault.state !== FaultState.ACTIVE) return;
    const timer = setTimeout(() => this.drop(fault, true), expiresAfterMs);
    timer.unref();
    this.expiryTimers.set(fault.id, timer);
  }

  private targetKind(id: string, owner?: string | null): 'tcp-proxy' | 'udp-proxy' | 'tcp-listener' | 'tcp-connection' {
    const scoped = (resourceOwner: string | null): boolean => owner === undefined || owner === null || resourceOwner === owner;
    const target = this.targets.get(id);
    if (target && scoped(target.owner)) return target.protocol === 'udp' ? 'udp-proxy' : 'tcp-proxy';
    const resource = this.registry.find(id);
    if (resource && scoped(resource.owner) && (resource.kind === 'tcp-listener' || resource.kind === 'tcp-connection') && resource.state !== 'closed') return resource.kind;
    throw new SocketError('FAULT_TARGET_NOT_FOUND', `no TCP proxy, UDP proxy, listener or open connection with id ${id} to put a fault on`, { target: id });
  }

  private *connectionsOf(targetId: string): Generator<TcpConnection> {
    const target = this.targets.get(targetId);
    if (target?.protocol === 'udp') return;
    const listenerId = target?.listenerId ?? targetId;
    for (const resource of this.registry.all()) {
      if (resource.kind !== 'tcp-connection' || resource.state === 'closed') continue;
      if (resource.id === targetId || resource.listenerId === listenerId) yield resource;
    }
  }
}
