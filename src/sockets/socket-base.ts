import { SocketEventBus, SocketKind } from './socket-events';
import { Labels } from './socket-types';

/** What the registry hands every socket it creates. */
export interface SocketInit<Options> {
  id: string;
  seq: number;
  labels: Labels;
  owner: string | null;
  options: Options;
  events: SocketEventBus;
  /** Its name, unique per owner among resources of its kind; null when it has none. */
  name?: string | null;
}

/** The identity every socket resource carries, set once by the registry at creation. */
export abstract class SocketBase<Options> {
  abstract readonly kind: SocketKind;
  readonly id: string;
  /** Creation order; cursors point into it. */
  readonly seq: number;
  readonly labels: Labels;
  /** The API key that created it (null when authentication is off). */
  readonly owner: string | null;
  readonly options: Options;
  readonly createdAt = new Date();
  /** Unique per owner among resources of its kind (scenarios find their resources by it); null when it has none. */
  readonly name: string | null;
  protected readonly events: SocketEventBus;

  protected constructor(init: SocketInit<Options>) {
    this.id = init.id;
    this.seq = init.seq;
    this.labels = init.labels;
    this.owner = init.owner;
    this.options = init.options;
    this.events = init.events;
    this.name = init.name ?? null;
  }
}
