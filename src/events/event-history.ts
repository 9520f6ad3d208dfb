import { SocketEvent, SocketEventData, SocketEventMap, SocketEventType, SocketKind } from '../sockets/socket-events';
import { Labels } from '../sockets/socket-types';
import { Queue } from '../sockets/queue';

/** A runtime event with the id the event stream gives it. */
export interface EventRecord {
  /** 1, 2, 3, …: one more for every event the service records, never reused in a process. */
  readonly id: number;
  readonly event: Readonly<Omit<SocketEvent, 'payload'>>;
  /** The first received bytes behind the event (at most the per-event cap), or null when none are held (any more). */
  readonly payload: Buffer | null;
  /** How many bytes the runtime reported (null: the event carries none), so a shorter `payload` is known to be truncated. */
  readonly payloadLength: number | null;
}

export interface EventHistoryLimits {
  /** Events held; 0 still numbers events but holds none. */
  capacity: number;
  /** Payload bytes held across the events; the oldest payloads go first. */
  payloadBudget: number;
  /** Payload bytes held per event; longer payloads keep their first bytes. */
  payloadMaxBytes: number;
}

/** What the data column's slots hold before their first event: any valid data will do. */
const UNSET_DATA: SocketEventMap['connection.resumed'] = { heldBytes: 0 };
/** An event's numbers in `EventHistory.numbers`: when it happened (ms), the payload bytes reported (or NONE), where its kept bytes start in the payload ring (or NONE), how many were kept. */
const AT = 0;
const PAYLOAD_LENGTH = 1;
const PAYLOAD_START = 2;
const PAYLOAD_KEPT = 3;
const NUMBERS = 4;
/** Marks a numeric column's slot as holding nothing (no payload, or none reported). */
const NONE = -1;
/** Where payload positions wrap round by default: below 2^53, so they stay exact doubles. */
const POSITION_WRAP = 2 ** 52;
/**
 * Payloads at least this large that are a whole allocation of their own (a TCP read, a large
 * datagram) are held as they are, not copied into the ring: copying every 64 KiB read of a bulk
 * transfer was a tenth of what the service spent on it. Smaller ones are still copied, so a
 * stream of small datagrams leaves no buffer per event for the garbage collector to carry.
 */
const HELD_AS_IS_MIN_BYTES = 16 * 1024;

/**
 * Numbers the events and keeps the most recent ones in a ring: at most `capacity` events, and
 * at most `payloadBudget` payload bytes across them (the oldest payloads are dropped first).
 * Ids are consecutive, so an id finds its slot without a search.
 *
 * An event is kept as columns, not as an object: its fields go into preallocated arrays (the
 * strings and labels are the resource's own, shared by all its events) and its payload bytes
 * into one preallocated ring. A busy UDP socket records an event per datagram, and as objects
 * (a record, a Date, a Buffer for the payload) every one of them survived the next young-generation
 * collection, which then paused long enough for the kernel to drop datagrams (bench/README.md
 * has the figures). As columns only the event's `data` object is left for the collector to copy.
 *
 * A large received chunk that is its own allocation is held as it is instead (nothing writes to
 * received bytes), in the same budget: it takes its length of the ring's positions without
 * being written there, so the oldest payloads still go first, whichever way they are held.
 */
export class EventHistory {
  readonly capacity: number;
  private latest = 0;
  private held = 0;

  private readonly types: SocketEventType[];
  private readonly kinds: SocketKind[];
  private readonly resourceIds: string[];
  private readonly labels: Labels[];
  private readonly owners: (string | null)[];
  private readonly data: SocketEventData[];
  /**
   * Each event's numbers side by side, `NUMBERS` to a slot (`AT`, `PAYLOAD_LENGTH`,
   * `PAYLOAD_START`, `PAYLOAD_KEPT`): one cache line written per event rather than one per column.
   */
  private readonly numbers: Float64Array;

  private readonly payloads: PayloadRing;
  /** The payloads held as they are (null where the ring has a copy, or none is held). */
  private readonly payloadsAsIs: (Buffer | null)[];
  /** The ids of the events with a payload in `payloadsAsIs`, oldest first, to let go of each once the budget drops it. */
  private readonly asIsIds = new Queue<number>(0);

  constructor(private readonly limits: EventHistoryLimits) {
    const { capacity } = limits;
    // While an event is held, the others write at most two caps each (a payload and the end
    // skipped before it): the payload ring's positions must not wrap round within that. The
    // configurable maxima stay a hundred times below it.
    if (capacity * 2 * limits.payloadMaxBytes >= POSITION_WRAP - limits.payloadBudget) {
      throw new RangeError(`an event history of ${capacity} events with payloads of up to ${limits.payloadMaxBytes} bytes would outrun its payload positions`);
    }
    this.capacity = capacity;
    this.types = column(capacity, 'connection.data');
    this.kinds = column(capacity, 'tcp-connection');
    this.resourceIds = column(capacity, '');
    this.labels = column(capacity, {});
    this.owners = column(capacity, null);
    this.data = column<SocketEventData>(capacity, UNSET_DATA);
    this.numbers = new Float64Array(capacity * NUMBERS);
    this.payloadsAsIs = column<Buffer | null>(capacity, null);
    this.payloads = new PayloadRing(capacity > 0 ? limits.payloadBudget : 0);
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

  /**
   * Gives the event the next id (or the `id` a shared feed gave it) and keeps it, with its first
   * payload bytes (a copy, or a large chunk as it is); answers the id. A given id past the next
   * one means the events in between never came here: what is held is let go, since held ids must
   * be consecutive (a stream resuming from before the jump is told of a gap).
   */
  record(event: SocketEvent, given?: number): number {
    if (given !== undefined && given > this.latest + 1) {
      this.held = 0;
      this.latest = given - 1;
      // The large chunks held as they are go too: their slots may not be written again soon.
      while (this.asIsIds.length > 0) this.payloadsAsIs[this.slotOf(this.asIsIds.shift())] = null;
    }
    const id = ++this.latest;
    if (this.capacity === 0) return id;
    const slot = this.slotOf(id);
    this.types[slot] = event.type;
    this.kinds[slot] = event.kind;
    this.resourceIds[slot] = event.resourceId;
    this.labels[slot] = event.labels;
    this.owners[slot] = event.owner;
    this.data[slot] = event.data;
    const numbers = this.numbers;
    const at = slot * NUMBERS;
    numbers[at + AT] = event.at.getTime();
    const { payload } = event;
    numbers[at + PAYLOAD_LENGTH] = payload?.length ?? NONE;
    // A view of the first bytes only when there are more: a frame's payload is a view already, and one per event showed in the rules' profile.
    const kept = payload === undefined ? null : payload.length > this.limits.payloadMaxBytes ? payload.subarray(0, this.limits.payloadMaxBytes) : payload;
    // Only a payload within the per-event cap: held as it is, a longer one would pin more than its kept bytes.
    const asIs = payload !== undefined && payload.length <= this.limits.payloadMaxBytes && isHeldAsIs(payload);
    const start = kept === null ? NONE : asIs ? this.payloads.reserve(kept.length) : this.payloads.write(kept);
    numbers[at + PAYLOAD_START] = start;
    numbers[at + PAYLOAD_KEPT] = kept?.length ?? 0;
    // Only the slots of the ids in asIsIds hold a payload as it is: with none, this slot holds none either.
    if (this.asIsIds.length > 0 || asIs) this.payloadsAsIs[slot] = asIs && start !== NONE ? payload : null;
    this.held = Math.min(this.held + 1, this.capacity);
    if (asIs && start !== NONE) this.asIsIds.push(id);
    this.letGoOfDropped();
    return id;
  }

  /**
   * The event with this id, while it is held. With `withPayload`, its payload bytes as a copy,
   * the reader's own (null once they are dropped); without, null, and nothing is copied.
   */
  get(id: number, withPayload: boolean): EventRecord | undefined {
    if (id < this.oldestId || id > this.latest) return undefined;
    const slot = this.slotOf(id);
    const reported = this.numbers[slot * NUMBERS + PAYLOAD_LENGTH];
    const payload = withPayload ? this.payloadOf(slot) : null;
    return {
      id,
      event: {
        type: this.types[slot],
        kind: this.kinds[slot],
        resourceId: this.resourceIds[slot],
        labels: this.labels[slot],
        owner: this.owners[slot],
        at: new Date(this.numbers[slot * NUMBERS + AT]),
        data: this.data[slot],
      },
      payload,
      payloadLength: reported === NONE ? null : reported,
    };
  }

  private slotOf(id: number): number {
    return (id - 1) % this.capacity;
  }

  /** A copy of the event's payload, the reader's own, or null once the budget dropped it. */
  private payloadOf(slot: number): Buffer | null {
    const start = this.numbers[slot * NUMBERS + PAYLOAD_START];
    const asIs = this.payloadsAsIs[slot];
    if (asIs === null) return this.payloads.read(start, this.numbers[slot * NUMBERS + PAYLOAD_KEPT]);
    return this.payloads.holds(start) ? Buffer.from(asIs) : null;
  }

  /** Lets go of the payloads held as they are that the budget (or the event's slot) no longer holds, oldest first. */
  private letGoOfDropped(): void {
    const ids = this.asIsIds;
    while (ids.length > 0) {
      const id = ids.at(0);
      const slot = this.slotOf(id);
      const stillHeld = id >= this.oldestId && this.payloadsAsIs[slot] !== null;
      if (stillHeld && this.payloads.holds(this.numbers[slot * NUMBERS + PAYLOAD_START])) return;
      // An event no longer held left its slot to a newer one, whose payload stays.
      if (stillHeld) this.payloadsAsIs[slot] = null;
      ids.shift();
    }
  }
}

/** A buffer that is the whole of its allocation and large: held as it is, it pins no more memory than its own bytes. */
function isHeldAsIs(payload: Buffer): boolean {
  return payload.length >= HELD_AS_IS_MIN_BYTES && payload.byteOffset === 0 && payload.buffer.byteLength === payload.length;
}

/**
 * A fixed block of bytes written round and round. A position counts the bytes written before
 * it, the ends skipped so that no payload wraps included, so a payload is still held while at
 * most `size` bytes, its own among them, have been written from its start on (the test is
 * conservative: it keeps "oldest first" true). Positions wrap round at a multiple of `size`,
 * which `EventHistory` keeps far beyond what its events can write while one of them is held,
 * so a position is never mistaken for a newer one.
 */
export class PayloadRing {
  private readonly block: Buffer;
  /** Positions run from 0 to just below this multiple of `size`. */
  readonly wrap: number;
  /** The position after the last byte written. */
  private end = 0;

  constructor(
    private readonly size: number,
    wrapAtMost = POSITION_WRAP,
  ) {
    // Taken from the OS page by page as it is first written, so an idle history costs little.
    this.block = Buffer.allocUnsafeSlow(size);
    this.wrap = size === 0 ? 0 : Math.floor(wrapAtMost / size) * size;
  }

  /** Copies the bytes in and answers their position, or NONE when they are larger than the ring. */
  write(bytes: Buffer): number {
    if (bytes.length > this.size || this.size === 0) return NONE;
    const offset = this.end % this.size;
    const start = (offset + bytes.length > this.size ? this.end + this.size - offset : this.end) % this.wrap;
    this.block.set(bytes, start % this.size);
    this.end = (start + bytes.length) % this.wrap;
    return start;
  }

  /**
   * Takes `length` positions for bytes held elsewhere, without writing them, and answers the
   * first; NONE when they are larger than the ring. They count against the ring like written
   * bytes, so `holds` drops them in the same order.
   */
  reserve(length: number): number {
    if (length > this.size || this.size === 0) return NONE;
    const start = this.end;
    this.end = (start + length) % this.wrap;
    return start;
  }

  /** The bytes from `start` on are still within the ring's budget. */
  holds(start: number): boolean {
    return start !== NONE && (this.end - start + this.wrap) % this.wrap <= this.size;
  }

  /** A copy of the bytes written at `start`, or null once they have been written over. */
  read(start: number, length: number): Buffer | null {
    if (!this.holds(start)) return null;
    const offset = start % this.size;
    return Buffer.from(this.block.subarray(offset, offset + length));
  }
}

/**
 * A preallocated array with every slot filled: `new Array(n)` is holey, and above about
 * 100,000 slots V8 makes it a dictionary, slow to write.
 */
function column<T>(length: number, fill: T): T[] {
  return Array.from({ length }, () => fill);
}
