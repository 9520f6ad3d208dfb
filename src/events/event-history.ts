import { SocketEvent } from '../sockets/socket-events';

/** A runtime event with the id the event stream gives it. */
export interface EventRecord {
  /** 1, 2, 3, …: one more for every event the service records, never reused in a process. */
  readonly id: number;
  readonly event: Readonly<Omit<SocketEvent, 'payload'>>;
  /**
   * A copy of the first received bytes behind the event (at most the per-event cap), or null.
   * The history drops it (never the event) when its payload budget runs out.
   */
  payload: Buffer | null;
  /** How many bytes the runtime reported (null: the event carries none), so a shorter `payload` is known to be truncated. */
  readonly payloadLength: number | null;
}

/**
 * Numbers the events and keeps the most recent ones in a ring: at most `capacity` events, and
 * at most `payloadBudget` payload bytes across them (the oldest payloads are dropped first).
 * Ids are consecutive, so an id finds its slot without a search.
 */
export class EventHistory {
  private readonly ring: (EventRecord | undefined)[];
  private latest = 0;
  private held = 0;
  private payloadBytes = 0;
  /** Every record below this id has had its payload dropped or evicted. */
  private payloadFloor = 1;

  constructor(
    readonly capacity: number,
    readonly payloadBudget: number,
  ) {
    this.ring = new Array<EventRecord | undefined>(capacity);
  }

  /** The id of the last recorded event (0 before the first). */
  get latestId(): number {
    return this.latest;
  }

  /** The oldest id still held; `latestId + 1` when nothing is held. */
  get oldestId(): number {
    return this.latest - this.held + 1;
  }

  get size(): number {
    return this.held;
  }

  get heldPayloadBytes(): number {
    return this.payloadBytes;
  }

  /** Gives the event the next id and keeps it (with its payload copy, if any). */
  record(event: Readonly<Omit<SocketEvent, 'payload'>>, payload: Buffer | null, payloadLength: number | null): EventRecord {
    const record: EventRecord = { id: ++this.latest, event, payload, payloadLength };
    if (this.capacity === 0) return record;
    const slot = (record.id - 1) % this.capacity;
    const evicted = this.ring[slot];
    if (evicted?.payload) this.payloadBytes -= evicted.payload.length;
    this.ring[slot] = record;
    this.held = Math.min(this.held + 1, this.capacity);
    this.payloadBytes += payload?.length ?? 0;
    this.trimPayloads();
    return record;
  }

  /** The event with this id, while it is held. */
  get(id: number): EventRecord | undefined {
    if (id < this.oldestId || id > this.latest) return undefined;
    return this.ring[(id - 1) % this.capacity];
  }

  private trimPayloads(): void {
    this.payloadFloor = Math.max(this.payloadFloor, this.oldestId);
    while (this.payloadBytes > this.payloadBudget) {
      const record = this.get(this.payloadFloor++);
      if (record?.payload) {
        this.payloadBytes -= record.payload.length;
        record.payload = null;
      }
    }
  }
}
