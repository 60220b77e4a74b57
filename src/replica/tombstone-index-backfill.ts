import { assert } from "../assert.js";
import type { Timers } from "../runtime/runtime.js";
import { metaKey, Namespace } from "../storage/keyspace.js";
import type { Bytes, StorageEngine, WriteOp } from "../storage/storage-engine.js";
import type { DottedVersionVectorSet } from "../versioning/dotted-version-vector-set.js";
import type { Sibling } from "../versioning/sibling.js";
import { BackgroundTask } from "./background-task.js";
import { decodeSiblingRecordIfAny } from "./sibling-record.js";
import { scanEntriesMax, scanRecords } from "./sibling-scan.js";
import { tombstoneIndexKey, tombstoneTimeOf } from "./tombstone-index.js";

/**
 * One pass, once per data directory, that gives every tombstone-only key already on disk its
 * tombstone-index entry (tombstone-index.ts). Tombstones written before the index existed
 * have none, and tombstone GC only walks the index, so without this pass they would stay
 * forever. Every write since keeps the index exact by itself; the pass only fills the gap.
 *
 * Bounded: a step reads at most `batchMax` stored records of the items namespace (sibling
 * sets; acceptor records are stepped over) and writes their missing entries with the cursor
 * (the last key read) in one batch under `backfillMetaKey`, so a restart resumes where the pass
 * stood. When the namespace is exhausted the marker becomes "done" (durably) and the pass
 * never runs again on this directory.
 *
 * A replica write is not locked out: between the step's read of a set and its index write, a
 * write may replace the set (and remove the old set's entry, which did not exist yet), leaving
 * an entry for a set that is gone. So after its write, the step reads each key it indexed
 * again and removes the entry if the set's tombstone time is no longer the one it indexed.
 * Neither a leftover entry nor a missing one is unsafe: GC checks every set it collects (the
 * conditional reap), and a missing entry only leaves a tombstone uncollected, as before.
 */
export const backfillMetaKey = metaKey("tombstone.index.backfill");
const done = Uint8Array.of(0);

export interface TombstoneIndexBackfillOptions {
  storage: StorageEngine;
  timers: Timers;
  /** ReplicaService.fetch: the key's stored set (for the check after the write). */
  fetch: (itemKey: Uint8Array) => DottedVersionVectorSet<Sibling> | undefined;
  /** Records read per step. */
  batchMax?: number;
  /** Pause between steps (requests go first). */
  busyDelayMs?: number;
  onError?: (error: unknown) => void;
}

export const tombstoneIndexBackfillDefaults = Object.freeze({ batchMax: 256, busyDelayMs: 20 });

export interface TombstoneIndexBackfillStats {
  /** Stored records read. */
  read: number;
  /** Index entries written (and kept). */
  indexed: number;
  /** Entries removed again because their set changed under the step. */
  withdrawn: number;
}

export class TombstoneIndexBackfill {
  private readonly task: BackgroundTask;
  private readonly batchMax: number;
  readonly stats: TombstoneIndexBackfillStats = { read: 0, indexed: 0, withdrawn: 0 };

  constructor(private readonly options: TombstoneIndexBackfillOptions) {
    this.batchMax = options.batchMax ?? tombstoneIndexBackfillDefaults.batchMax;
    assert(Number.isSafeInteger(this.batchMax) && this.batchMax >= 1 && this.batchMax <= scanEntriesMax, `backfill batch must be 1 to ${scanEntriesMax}, got ${this.batchMax}`);
    this.task = new BackgroundTask({
      timers: options.timers,
      step: () => this.step(),
      idleDelayMs: 0,
      busyDelayMs: options.busyDelayMs ?? tombstoneIndexBackfillDefaults.busyDelayMs,
      onError: options.onError ?? (() => undefined),
    });
  }

  /** Whether this data directory's pass has finished. */
  get finished(): boolean {
    const marker = this.options.storage.get(backfillMetaKey);
    return marker !== undefined && marker.length === 1 && marker[0] === 0;
  }

  start(): void {
    if (!this.finished) this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** One bounded step; true while records remain. Public for tests. */
  async step(): Promise<boolean> {
    if (this.finished) {
      void this.task.stop();
      return false;
    }
    const { storage } = this.options;
    const cursor = storage.get(backfillMetaKey);
    const page = scanRecords(
      storage,
      { prefix: Uint8Array.of(Namespace.items), ...(cursor !== undefined ? { low: { key: cursor.slice(1), inclusive: false } } : {}), reverse: false, limit: this.batchMax },
      (bytes) => decodeSiblingRecordIfAny(bytes) ?? null,
    );
    this.stats.read += page.entries.length;
    const added: { key: Bytes; timeMs: number }[] = [];
    const ops: WriteOp[] = [];
    for (const { key, record } of page.entries) {
      const timeMs = record === null ? undefined : tombstoneTimeOf(record);
      if (timeMs === undefined) continue;
      const indexKey = tombstoneIndexKey(timeMs, key);
      if (storage.get(indexKey) !== undefined) continue;
      ops.push({ type: "put", key: indexKey, value: new Uint8Array(0) });
      added.push({ key, timeMs });
    }
    const last = page.entries[page.entries.length - 1];
    const finished = page.exhausted || last === undefined;
    // The cursor is stored as [1][last key]; "done" is [0].
    ops.push({ type: "put", key: backfillMetaKey, value: finished || last === undefined ? done : Uint8Array.from([1, ...last.key]) });
    await storage.write(ops, { durable: finished });
    const withdrawn: WriteOp[] = [];
    for (const { key, timeMs } of added) {
      if (tombstoneTimeOf(this.options.fetch(key)) === timeMs) this.stats.indexed++;
      else withdrawn.push({ type: "delete", key: tombstoneIndexKey(timeMs, key) });
    }
    if (withdrawn.length > 0) {
      await storage.write(withdrawn);
      this.stats.withdrawn += withdrawn.length;
    }
    if (finished) void this.task.stop();
    return !finished;
  }
}
