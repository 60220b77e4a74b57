import type { Random } from "../runtime/runtime.js";
import type { Bytes, Entry, RangeOptions, StorageEngine, StorageStats, WriteOp, WriteOptions } from "../storage/storage-engine.js";
import type { Scheduler } from "./scheduler.js";

/**
 * One incarnation's view of a simulated machine's disk. It adds virtual latency to writes
 * and syncs (a commit and an fsync take time, which is when a crash can hit) and fences the
 * incarnation off when it crashes: a dead process's pending writes never resolve, and writes
 * its leftover continuations still issue are dropped, so a ghost can never change what the
 * restarted node reads. The engine underneath (MemoryStorageEngine) outlives incarnations;
 * its own `crash()` decides what was durable.
 *
 * A write reaches the engine at once and its promise resolves after the latency: a crash in
 * between may leave the write in place though never acknowledged, as on a real disk.
 */
export interface SimStorageOptions {
  /** Latency of a commit, uniform in [min, max] virtual ms. */
  writeDelayMinMs?: number;
  writeDelayMaxMs?: number;
  /** Extra latency of a durable write or a sync (the fsync). */
  syncDelayMs?: number;
  /**
   * A durable write is durable only when its latency ends (the fsync returned), not as soon as
   * it commits: a crash in between loses it though other nodes may already have read it (its
   * data, or a copy the node sent out). Off by default: the engine then makes it durable at once.
   */
  lateDurability?: boolean;
  /** Up to this much more per fsync, uniform (a disk's queue: one node's fsync may take longer than another's); 0 by default. */
  syncJitterMs?: number;
  random: Random;
  nodeId: string;
}

export const simStorageDefaults = { writeDelayMinMs: 0.05, writeDelayMaxMs: 0.5, syncDelayMs: 2 } as const;

export class SimStorage implements StorageEngine {
  private fenced = false;

  constructor(
    private readonly engine: StorageEngine,
    private readonly scheduler: Scheduler,
    private readonly options: SimStorageOptions,
  ) {}

  get kind(): StorageEngine["kind"] {
    return this.engine.kind;
  }

  get(key: Bytes): Bytes | undefined {
    return this.engine.get(key);
  }

  range(options: RangeOptions): Iterable<Entry> {
    return this.engine.range(options);
  }

  write(ops: readonly WriteOp[], options?: WriteOptions): Promise<void> {
    if (this.fenced) return never();
    if (options?.durable === true && this.options.lateDurability === true) {
      // Committed now, made durable (with everything committed before it) when the fsync's time is up.
      const committed = this.engine.write(ops);
      return this.afterDelay(committed, true, "write").then(() => (this.fenced ? never() : this.engine.sync()));
    }
    return this.afterDelay(this.engine.write(ops, options), options?.durable === true, "write");
  }

  sync(): Promise<void> {
    if (this.fenced) return never();
    return this.afterDelay(this.engine.sync(), true, "sync");
  }

  stats(): StorageStats {
    return this.engine.stats();
  }

  /** The engine outlives the incarnation: an orderly stop leaves it open for the next one. */
  async close(): Promise<void> {
    this.fence();
  }

  /** The process died: nothing it does from now on reaches the disk or hears back from it. */
  fence(): void {
    this.fenced = true;
  }

  private afterDelay(done: Promise<void>, durable: boolean, what: string): Promise<void> {
    const min = this.options.writeDelayMinMs ?? simStorageDefaults.writeDelayMinMs;
    const max = this.options.writeDelayMaxMs ?? simStorageDefaults.writeDelayMaxMs;
    const jitterMs = durable && this.options.syncJitterMs !== undefined ? this.options.random.next() * this.options.syncJitterMs : 0;
    const delayMs = min + this.options.random.next() * (max - min) + (durable ? (this.options.syncDelayMs ?? simStorageDefaults.syncDelayMs) + jitterMs : 0);
    const elapsed = new Promise<void>((resolve) => this.scheduler.after(delayMs, resolve, `disk ${what} ${this.options.nodeId}`));
    return Promise.all([done, elapsed]).then(() => (this.fenced ? never() : undefined));
  }
}

function never(): Promise<never> {
  return new Promise<never>(() => undefined);
}
