import { FaultDirection, FaultType } from '../sockets/faults/fault-types';

/** A toxic as Toxiproxy's API shows it. */
export interface ToxicJson {
  name: string;
  type: string;
  stream: 'upstream' | 'downstream';
  toxicity: number;
  attributes: Record<string, number>;
}

interface ToxicMapping {
  fault: FaultType;
  /** Toxiproxy's attributes with their defaults. */
  defaults: Record<string, number>;
  /** The fault's attributes for Toxiproxy's. */
  toFault(attributes: Record<string, number>): Record<string, number | string>;
}

/**
 * Toxiproxy's toxic types as sockplane faults. Its units: milliseconds, except the slicer's
 * delay (microseconds), and bandwidth in KB/s (1000 bytes, as Toxiproxy counts them).
 */
export const TOXICS: Record<string, ToxicMapping> = {
  latency: { fault: 'latency', defaults: { latency: 0, jitter: 0 }, toFault: (a) => ({ ms: a.latency, jitterMs: a.jitter }) },
  bandwidth: { fault: 'bandwidth', defaults: { rate: 0 }, toFault: (a) => ({ bytesPerSecond: a.rate * 1000 }) },
  slow_close: { fault: 'slowClose', defaults: { delay: 0 }, toFault: (a) => ({ delayMs: a.delay }) },
  timeout: { fault: 'blackhole', defaults: { timeout: 0 }, toFault: (a) => ({ closeAfterMs: a.timeout }) },
  reset_peer: { fault: 'close', defaults: { timeout: 0 }, toFault: (a) => ({ afterMs: a.timeout, how: 'rst' }) },
  slicer: {
    fault: 'slice',
    defaults: { average_size: 0, size_variation: 0, delay: 0 },
    toFault: (a) => ({ averageBytes: a.average_size, variationBytes: a.size_variation, delayMs: Math.round(a.delay / 1000) }),
  },
  limit_data: { fault: 'limitBytes', defaults: { bytes: 0 }, toFault: (a) => ({ bytes: a.bytes, then: 'fin' }) },
};

/** Toxiproxy's streams as fault directions on the client's half: downstream is what the client is sent. */
export const STREAM_DIRECTIONS: Record<ToxicJson['stream'], FaultDirection> = { downstream: 'toPeer', upstream: 'fromPeer' };
