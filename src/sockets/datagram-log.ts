import { Queue } from './queue';
import { Endpoint } from './socket-types';

/** One received datagram, numbered by the order it was kept in (the first is seq 0). */
export interface Datagram {
  seq: number;
  data: Buffer;
  sender: Endpoint;
  receivedAt: Date;
}

export interface DatagramLogLimits {
  /** Datagrams held at once; more are dropped. */
  maxDatagrams: number;
  /** Payload bytes held at once; a datagram that would go past it is dropped. */
  maxBytes: number;
}

/** Which cap made the log drop a datagram. */
export const DROP_CAUSES = ['maxDatagrams', 'maxBufferedBytes'] as const;
export type DropCause = (typeof DROP_CAUSES)[number];

export type AppendOutcome = { kept: true; datagram: Datagram } | { kept: false; cause: DropCause };

/** Stands in for a released datagram until the queue is compacted. */
const RELEASED: Datagram = { seq: -1, data: Buffer.alloc(0), sender: { address: '', family: 'IPv4', port: 0 }, receivedAt: new Date(0) };

/**
 * Received datagrams addressed by sequence number, the datagram counterpart of `ByteLog`.
 * Reads never consume; `releaseUpTo` frees what the reader has processed. UDP has no flow
 * control to push back with, so a datagram arriving at a full log is dropped and counted:
 * the newest is refused rather than an unread one taken from under a reader. Dropped
 * datagrams get no sequence number, so the held ones stay contiguous.
 */
export class DatagramLog {
  private readonly items = new Queue<Datagram>(RELEASED);
  private end = 0;
  private bytes = 0;
  private droppedCount = 0;

  constructor(private readonly limits: DatagramLogLimits) {}

  /** The oldest sequence number still held (= endSeq when nothing is held). */
  get oldestSeq(): number {
    return this.end - this.heldDatagrams;
  }

  /** The sequence number the next kept datagram will get. */
  get endSeq(): number {
    return this.end;
  }

  get heldDatagrams(): number {
    return this.items.length;
  }

  get heldBytes(): number {
    return this.bytes;
  }

  /** Datagrams refused because the log was at one of its caps. */
  get dropped(): number {
    return this.droppedCount;
  }

  append(data: Buffer, sender: Endpoint, receivedAt: Date): AppendOutcome {
    if (this.heldDatagrams >= this.limits.maxDatagrams) return this.drop('maxDatagrams');
    if (this.bytes + data.length > this.limits.maxBytes) return this.drop('maxBufferedBytes');
    const datagram: Datagram = { seq: this.end++, data, sender, receivedAt };
    this.items.push(datagram);
    this.bytes += data.length;
    return { kept: true, datagram };
  }

  /** Numbers a datagram that was handled without being kept (echo and discard modes). */
  skip(): number {
    this.releaseUpTo(this.end);
    return this.end++;
  }

  /**
   * Up to `max` datagrams from `from` (within [oldestSeq, endSeq]), stopping before the one that
   * would take the total past `maxBytes` — but always returning at least one, so a datagram
   * larger than `maxBytes` can still be read.
   */
  read(from: number, max: number, maxBytes: number): Datagram[] {
    const found: Datagram[] = [];
    let total = 0;
    for (let i = from - this.oldestSeq; i < this.items.length && found.length < max; i++) {
      const datagram = this.items.at(i);
      if (found.length > 0 && total + datagram.data.length > maxBytes) break;
      total += datagram.data.length;
      found.push(datagram);
    }
    return found;
  }

  /** Frees every datagram below `seq` (clamped to what is held). */
  releaseUpTo(seq: number): void {
    while (this.items.length > 0 && this.items.at(0).seq < seq) this.bytes -= this.items.shift().data.length;
  }

  private drop(cause: DropCause): AppendOutcome {
    this.droppedCount++;
    return { kept: false, cause };
  }
}
