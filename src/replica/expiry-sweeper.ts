import type { Timers } from "../runtime/runtime.js";
import { BackgroundTask } from "./background-task.js";

/**
 * Turns expired items into tombstones in the background (ReplicaService.sweepExpired), walking the expiry index in time order in steps of
 * at most `batchMax` entries (limits.expirySweepBatchMax). Reads already hide expired items;
 * the sweep makes their replicas agree they are gone, and tombstone GC reclaims the space (each
 * tombstone it writes gets a tombstone-index entry in the same write: tombstone-index.ts). `onExpired` feeds the items-expired metric.
 */
export interface ExpirySweeperOptions {
  timers: Timers;
  /** The replica (ReplicaService.sweepExpired). */
  store: { sweepExpired(limit: number): Promise<{ processed: number; expired: number }> };
  intervalMs: number;
  batchMax: number;
  onExpired: (count: number) => void;
  onError: (error: unknown) => void;
}

export class ExpirySweeper {
  private readonly task: BackgroundTask;

  constructor(private readonly options: ExpirySweeperOptions) {
    this.task = new BackgroundTask({
      timers: options.timers,
      step: () => this.step(),
      idleDelayMs: options.intervalMs,
      busyDelayMs: 0,
      onError: options.onError,
    });
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** One sweep step; true when the step was full and more may be due. */
  async step(): Promise<boolean> {
    const { processed, expired } = await this.options.store.sweepExpired(this.options.batchMax);
    if (expired > 0) this.options.onExpired(expired);
    return processed === this.options.batchMax;
  }
}
