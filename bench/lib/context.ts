import { Baseline, Service } from './processes';
import { ResultRow } from './report';

/** How much each scenario does: the full run, or `--quick` (about 30 seconds). */
export interface Volumes {
  /** Rounds of autocannon load per measured server, alternating with the baseline so both see the same machine. */
  loadRounds: number;
  /** Seconds of each round. */
  loadSeconds: number;
  /** Round trips measured per latency series. */
  roundTrips: number;
  /** Bytes streamed through each throughput scenario. */
  streamBytes: number;
  /** Measured rounds of the throughput scenarios (raw net, drains, pushes in turn) after one warm-up round; each figure is the median of its rounds. */
  streamRounds: number;
  /** Concurrent inbound connections held at once. */
  connections: number;
  /** Seconds of listener create/delete cycles. */
  listenerSeconds: number;
  /** Milliseconds of sending per UDP rate trial. */
  udpTrialMs: number;
  /** Full TLS handshakes per measured round, per server. */
  tlsHandshakes: number;
  /** Measured rounds of TLS handshakes per server, alternating with the baseline. */
  tlsRounds: number;
  /** Bytes the TLS echo round trip streams each way. */
  tlsEchoBytes: number;
}

export const FULL: Volumes = {
  loadRounds: 5,
  loadSeconds: 2,
  roundTrips: 2000,
  streamBytes: 512 * 1024 * 1024,
  streamRounds: 3,
  connections: 10_000,
  listenerSeconds: 10,
  udpTrialMs: 2000,
  tlsHandshakes: 1000,
  tlsRounds: 5,
  tlsEchoBytes: 64 * 1024 * 1024,
};

export const QUICK: Volumes = {
  loadRounds: 2,
  loadSeconds: 1,
  roundTrips: 300,
  streamBytes: 64 * 1024 * 1024,
  streamRounds: 1,
  connections: 2000,
  listenerSeconds: 1,
  udpTrialMs: 300,
  tlsHandshakes: 150,
  tlsRounds: 2,
  tlsEchoBytes: 8 * 1024 * 1024,
};

export interface BenchContext {
  volumes: Volumes;
  /** The service most scenarios share. */
  service: Service;
  baseline: Baseline;
  /** A service of its own, for a scenario that measures the process (RSS). */
  startService(): Promise<Service>;
  log(line: string): void;
}

export interface Scenario {
  /** Selects the scenario with `--only=<name>`. */
  name: string;
  run(context: BenchContext): Promise<ResultRow[]>;
}
