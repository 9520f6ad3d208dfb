import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { ELDHistogram, monitorEventLoopDelay } from 'node:perf_hooks';

/** The sampling interval: every sample is at least this long, so only the excess is lag. */
const RESOLUTION_MS = 20;
/** Samples are kept for one to two windows: a stall stays visible for at least this long. */
const WINDOW_MS = 10_000;

/** Measures event-loop stalls with Node's own delay histogram, over a rolling window. */
@Injectable()
export class EventLoopLagMonitor implements OnModuleInit, OnModuleDestroy {
  private readonly histogram: ELDHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private previousWindowMaxNs = 0;
  private rotation: NodeJS.Timeout | null = null;

  onModuleInit(): void {
    this.histogram.enable();
    this.rotation = setInterval(() => this.rotate(), WINDOW_MS).unref();
  }

  onModuleDestroy(): void {
    if (this.rotation) clearInterval(this.rotation);
    this.histogram.disable();
  }

  /** The longest stall seen in the current and the previous window, in milliseconds. */
  get lagMs(): number {
    const maxNs = Math.max(this.previousWindowMaxNs, this.currentMaxNs());
    return Math.max(0, maxNs / 1e6 - RESOLUTION_MS);
  }

  private rotate(): void {
    this.previousWindowMaxNs = this.currentMaxNs();
    this.histogram.reset();
  }

  private currentMaxNs(): number {
    return this.histogram.count > 0 ? this.histogram.max : 0;
  }
}
