import { assert } from "../assert.js";
import { rangeBounds, type RangeBounds } from "./range-bounds.js";
import { SortedByteMap } from "./sorted-byte-map.js";
import type { Bytes, Entry, RangeOptions, StorageEngine, StorageStats, WriteOp, WriteOptions } from "./storage-engine.js";
import { assertStorageKey, assertWriteOps, storageClosedError } from "./write-ops.js";

export interface MemoryStorageEngineOptions {
  /**
   * Committed writes kept undoable for `crash()`. Past this many the engine declares everything
   * durable, as an operating system eventually writes dirty pages back on its own.
   */
  unsyncedOpsMax?: number;
}

const UNSYNCED_OPS_MAX_DEFAULT = 1_000_000;

/**
 * A plain Uint8Array copy of `bytes`, whatever its class: `slice` on a Node Buffer (msgpackr's
 * output, the transport's payloads, records cut from a shared block) is a view, so storing the
 * result would keep the caller's bytes (and the whole block behind them) and see later changes
 * to them. LMDB copies what it stores; this engine must behave the same.
 */
function copyOf(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

interface QueuedWrite {
  ops: readonly WriteOp[];
  durable: boolean;
  resolve: () => void;
}

interface UndoEntry {
  key: Bytes;
  previous: Bytes | undefined;
}

/**
 * The StorageEngine for tests and the simulator: an ordered map in memory that behaves like
 * LMDB where the core can observe it.
 *
 * - Group commit: writes issued in one turn are queued and applied together on a microtask, so
 *   a write is invisible until its promise is about to resolve, as with lmdb-js. No timers: the
 *   simulator's event order alone decides the outcome.
 * - Crash model (FoundationDB's power cut that loses unsynced writes): committed state and
 *   durable state differ by an undo log. `sync()` and `write(ops, { durable: true })` make
 *   everything committed so far durable (clear the log); `crash()` rolls the log back so later
 *   reads see only durable data.
 * - Bytes are copied in and out, so no caller can change stored data through a shared array
 *   (lmdb-js copies too).
 */
export class MemoryStorageEngine implements StorageEngine {
  readonly kind = "memory";
  private readonly map = new SortedByteMap();
  private readonly unsyncedOpsMax: number;
  private undoLog: UndoEntry[] = [];
  private queue: QueuedWrite[] = [];
  private flushScheduled = false;
  private byteCount = 0;
  private closed = false;

  constructor(options: MemoryStorageEngineOptions = {}) {
    this.unsyncedOpsMax = options.unsyncedOpsMax ?? UNSYNCED_OPS_MAX_DEFAULT;
    assert(Number.isSafeInteger(this.unsyncedOpsMax) && this.unsyncedOpsMax > 0, `unsyncedOpsMax must be a positive integer, got ${this.unsyncedOpsMax}`);
  }

  get(key: Bytes): Bytes | undefined {
    this.checkOpen("get");
    assertStorageKey(key, "get");
    const value = this.map.get(key);
    return value === undefined ? undefined : copyOf(value);
  }

  range(options: RangeOptions): Iterable<Entry> {
    this.checkOpen("range");
    return this.scan(rangeBounds(options));
  }

  write(ops: readonly WriteOp[], options: WriteOptions = {}): Promise<void> {
    if (this.closed) return Promise.reject(storageClosedError(this.kind, "write"));
    assertWriteOps(ops);
    const copies = ops.map((op): WriteOp => (op.type === "put" ? { type: "put", key: copyOf(op.key), value: copyOf(op.value) } : { type: "delete", key: copyOf(op.key) }));
    return this.enqueue(copies, options.durable === true);
  }

  sync(): Promise<void> {
    if (this.closed) return Promise.reject(storageClosedError(this.kind, "sync"));
    return this.enqueue([], true);
  }

  stats(): StorageStats {
    this.checkOpen("stats");
    return { sizeBytes: this.byteCount, entries: this.map.size };
  }

  /** Waits for queued writes to commit, then refuses every later call. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    const drained = this.enqueue([], false);
    this.closed = true;
    await drained;
  }

  /**
   * A simulated power cut: queued writes never commit and their promises never settle (the
   * process that awaited them is gone); committed writes that were not yet durable are undone.
   * The engine is open afterwards, holding exactly its durable state, for the restarted node.
   */
  crash(): void {
    this.queue = [];
    for (let i = this.undoLog.length - 1; i >= 0; i--) {
      const { key, previous } = this.undoLog[i]!;
      if (previous === undefined) this.removeEntry(key);
      else this.putEntry(key, previous);
    }
    this.undoLog = [];
    this.closed = false;
  }

  /** Committed writes a crash would undo right now (for tests of the crash model). */
  unsyncedOps(): number {
    return this.undoLog.length;
  }

  private enqueue(ops: readonly WriteOp[], durable: boolean): Promise<void> {
    return new Promise<void>((resolve) => {
      this.queue.push({ ops, durable, resolve });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        queueMicrotask(() => this.flush());
      }
    });
  }

  /** One group commit: apply every queued batch in order, then answer them all. */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue;
    this.queue = [];
    let durable = false;
    for (const write of batch) {
      for (const op of write.ops) this.apply(op);
      durable ||= write.durable;
    }
    if (durable || this.undoLog.length > this.unsyncedOpsMax) this.undoLog = [];
    for (const write of batch) write.resolve();
  }

  private apply(op: WriteOp): void {
    const previous = op.type === "put" ? this.putEntry(op.key, op.value) : this.removeEntry(op.key);
    this.undoLog.push({ key: op.key, previous });
  }

  private putEntry(key: Bytes, value: Bytes): Bytes | undefined {
    const previous = this.map.set(key, value);
    if (previous === undefined) this.byteCount += key.length + value.length;
    else this.byteCount += value.length - previous.length;
    return previous;
  }

  private removeEntry(key: Bytes): Bytes | undefined {
    const previous = this.map.delete(key);
    if (previous !== undefined) this.byteCount -= key.length + previous.length;
    return previous;
  }

  private *scan(bounds: RangeBounds): Generator<Entry> {
    if (bounds.empty) return;
    let count = 0;
    for (const entry of this.map.scan(bounds, bounds.reverse)) {
      this.checkOpen("range");
      yield { key: copyOf(entry.key), value: copyOf(entry.value) };
      if (++count >= bounds.limit) return;
    }
  }

  private checkOpen(action: string): void {
    if (this.closed) throw storageClosedError(this.kind, action);
  }
}
