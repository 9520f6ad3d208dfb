import { Fault } from './fault';

/** Which way a datagram crosses a UDP proxy: to the client (`toPeer`) or from it (`fromPeer`). */
export type DatagramDirection = 'toPeer' | 'fromPeer';

/** The last draw of each `drop` fault with a correlation, which the next draw leans on. */
const lastDraws = new WeakMap<Fault, number>();

/**
 * Datagram faults on a UDP proxy, applied per datagram in order: each fault in the datagram's
 * direction rolls from its own seeded generator, so the same seed and the same datagrams give
 * the same drops, run after run. Held datagrams (latency, reorder) wait on timers that
 * `dispose` clears.
 */
export class DatagramFaults {
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private faults: readonly Fault[]) {}

  /** Replaces the faults in force (created, changed or removed); rolls already made stay made. */
  set(faults: readonly Fault[]): void {
    this.faults = faults;
  }

  /** Passes `datagram` through the faults of its direction; `send` is called for each copy that goes on (none when dropped). */
  pass(direction: DatagramDirection, datagram: Buffer, send: (datagram: Buffer) => void): void {
    this.apply(0, direction, datagram, send);
  }

  dispose(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private apply(from: number, direction: DatagramDirection, datagram: Buffer, send: (datagram: Buffer) => void): void {
    for (let i = from; i < this.faults.length; i++) {
      const fault = this.faults[i];
      const { spec, random } = fault;
      if (spec.direction !== 'both' && spec.direction !== direction) continue;
      if (spec.select.probability < 1 && !random.chance(spec.select.probability)) continue;
      const rest = (copy: Buffer): void => this.apply(i + 1, direction, copy, send);
      const { attributes } = spec;
      switch (spec.type) {
        case 'drop': {
          const correlation = Number(attributes.correlation);
          const draw = correlation * (lastDraws.get(fault) ?? random.next()) + (1 - correlation) * random.next();
          lastDraws.set(fault, draw);
          if (draw < Number(attributes.probability)) return;
          break;
        }
        case 'duplicate':
          if (random.chance(Number(attributes.probability))) {
            rest(datagram);
            rest(datagram);
            return;
          }
          break;
        case 'reorder':
          this.later(random.next() * Number(attributes.windowMs), () => rest(datagram));
          return;
        case 'latency': {
          const jitter = Number(attributes.jitterMs);
          this.later(Number(attributes.ms) + (jitter > 0 ? (random.next() * 2 - 1) * jitter : 0), () => rest(datagram));
          return;
        }
        default:
          break;
      }
    }
    send(datagram);
  }

  private later(ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      action();
    }, Math.max(0, ms));
    this.timers.add(timer);
  }
}
