/**
 * The production StorageEngine, on LMDB through lmdb-js 3.x (`lmdb` on npm).
 *
 * What lmdb-js's promises mean (read from lmdb-js 3.5.6's write.js, src/writer.cpp and its
 * LMDB fork's mdb_txn_commit, and checked with strace on Linux):
 *
 * - Group commit: with `eventTurnBatching` (the default) every `put`/`remove`/`batch` issued in
 *   one event-loop turn goes into one instruction buffer that a worker thread applies as ONE
 *   write transaction. `db.batch(() => { put; remove; ... })` wraps its ops in a block of that
 *   same transaction, so an atomic multi-op write still shares the turn's transaction (50
 *   concurrent batch() calls in one turn gave one commit and one fdatasync under strace).
 *   `transaction()` callbacks would instead run the ops on the main thread.
 * - `overlappingSync` is on by default on every OS but Windows. The write transaction is then
 *   begun MDB_NOSYNC: the commit promise resolves once the transaction is committed and visible
 *   to readers (it survives a process crash: the pages are in the OS page cache) but BEFORE it
 *   is on disk. After the commit the worker thread, holding LMDB's sync mutex, calls
 *   fdatasync on the data file and then writes a "flushed" meta page through the O_DSYNC meta
 *   descriptor; only then does lmdb-js resolve the flush promise. A sync covers the newest
 *   committed transaction at the time it starts, and a commit that finds `me_synced_txn_id`
 *   already past it skips its own fsync, so concurrent durable writers share fsyncs.
 * - `separateFlushed: true` (set below) attaches that flush promise to each write's promise as
 *   `.flushed`; without overlappingSync, `.flushed` is the commit promise itself (the commit
 *   then syncs inside the transaction). `db.flushed` is a thenable for "everything written so
 *   far is flushed" (it waits on the latest write's flush promise).
 * - `noSync` would never fsync at all; we never set it. On restart after a power cut LMDB opens
 *   the last flushed meta page (after a mere process crash, with the same boot id, the last
 *   committed one), so a write whose `.flushed` resolved is never lost.
 * - Values are passed to the worker thread by pointer, not copied, until the commit: a caller
 *   changing its array before the promise resolves would change what is stored. We copy.
 * - Keys are 1 to 1978 bytes (lmdb-js's maxKeySize with 4 KiB pages); a bad key throws
 *   synchronously from put, which inside batch() would leave the batch half-written, so every
 *   op is validated before the batch starts.
 * - getBinary and getRange (binary encoding) return fresh Buffer copies; a range iterator reads
 *   from one read-transaction snapshot taken when iteration starts.
 * - getRange with binary keys and `reverse` but no `end` stops before the key 0x00 (lmdb-js
 *   uses [0x00] as its default exclusive end); range() always passes an explicit end.
 * - On top of the turn's group commit, writes pass a CommitGate (commit-gate.ts): while one
 *   transaction is committed and not yet flushed, new writes wait and then go together as the
 *   next one (about one transaction per fsync instead of two under a steady write load).
 */
import { open, type RootDatabase } from "lmdb";
import { assert } from "../assert.js";
import { CommitGate, type IssuedWrite } from "./commit-gate.js";
import { rangeBounds } from "./range-bounds.js";
import type { Bytes, Entry, RangeOptions, StorageEngine, StorageStats, WriteOp, WriteOptions } from "./storage-engine.js";
import { assertStorageKey, assertWriteOps, storageClosedError } from "./write-ops.js";

export interface LmdbStorageEngineOptions {
  /** Directory holding data.mdb and lock.mdb (created if missing). */
  path: string;
  /** Initial address space for the memory map; lmdb-js grows it as the data grows. */
  mapSizeBytes?: number;
}

type LmdbDatabase = RootDatabase<Uint8Array, Uint8Array>;
type CommitPromise = Promise<boolean> & { flushed?: PromiseLike<unknown> };

interface LmdbStats {
  pageSize: number;
  entryCount: number;
  lastPageNumber: number;
}

export class LmdbStorageEngine implements StorageEngine {
  readonly kind = "lmdb";
  private closed = false;
  /** One transaction committed and not yet flushed at a time; writes meanwhile form the next (commit-gate.ts). */
  private readonly gate: CommitGate<readonly WriteOp[]>;

  private constructor(private readonly db: LmdbDatabase) {
    this.gate = new CommitGate({ issue: (ops) => this.issue(ops), endOfTurn: (callback) => void setImmediate(callback), queuedMax: writesQueuedMax });
  }

  /** Transactions started and writes that waited for a flush (commit-gate.ts), for tests and profiles. */
  get commitStats(): Readonly<{ batches: number; writes: number; waited: number }> {
    return this.gate.stats;
  }

  static async open(options: LmdbStorageEngineOptions): Promise<LmdbStorageEngine> {
    assert(options.mapSizeBytes === undefined || (Number.isSafeInteger(options.mapSizeBytes) && options.mapSizeBytes > 0), `mapSizeBytes must be a positive integer, got ${options.mapSizeBytes}`);
    const db = open<Uint8Array, Uint8Array>({
      path: options.path,
      noSubdir: false,
      keyEncoding: "binary",
      encoding: "binary",
      separateFlushed: true,
      cache: false,
      compression: false,
      ...(options.mapSizeBytes === undefined ? {} : { mapSize: options.mapSizeBytes }),
    });
    return new LmdbStorageEngine(db);
  }

  get(key: Bytes): Bytes | undefined {
    this.checkOpen("get");
    assertStorageKey(key, "get");
    const value = this.db.getBinary(key);
    return value === undefined ? undefined : plain(value);
  }

  range(options: RangeOptions): Iterable<Entry> {
    this.checkOpen("range");
    const bounds = rangeBounds(options);
    if (bounds.empty) return [];
    // lmdb-js: `start` is where iteration begins (the high end when reverse), `end` is
    // exclusive unless inclusiveEnd, and exclusiveStart skips a start key equal to `start`.
    const first = bounds.reverse ? bounds.high : bounds.low;
    // Reverse without a low bound: lmdb-js then ends at its default beginning key [0x00],
    // exclusively, which would skip the key 0x00. The only key below it is the empty key,
    // which LMDB refuses, so "down to 0x00 inclusive" means "to the first key".
    const last = bounds.reverse ? (bounds.low ?? LOWEST_KEY) : bounds.high;
    const entries = this.db.getRange({
      ...(first === undefined ? {} : { start: first.key, exclusiveStart: !first.inclusive }),
      ...(last === undefined ? {} : { end: last.key, inclusiveEnd: last.inclusive }),
      reverse: bounds.reverse,
      ...(bounds.limit === Infinity ? {} : { limit: bounds.limit }),
    });
    return this.plainEntries(entries);
  }

  write(ops: readonly WriteOp[], options: WriteOptions = {}): Promise<void> {
    if (this.closed) return Promise.reject(storageClosedError(this.kind, "write"));
    assertWriteOps(ops);
    // lmdb-js reads values at commit time, and the gate may hold a write for a while: copy now.
    // Uint8Array's own slice, not the argument's: on a Node Buffer (msgpackr's output, a view of
    // a received frame) `slice` is a view, which would keep the caller's bytes, not a copy.
    const copied: WriteOp[] = new Array<WriteOp>(ops.length);
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      copied[i] = op.type === "put" ? { type: "put", key: op.key, value: Uint8Array.prototype.slice.call(op.value) } : op;
    }
    return this.gate.write(copied, options.durable === true);
  }

  sync(): Promise<void> {
    if (this.closed) return Promise.reject(storageClosedError(this.kind, "sync"));
    return this.gate.whenDrained().then(() => this.db.flushed).then(ignore);
  }

  stats(): StorageStats {
    this.checkOpen("stats");
    const stats = this.db.getStats() as LmdbStats;
    assert(Number.isSafeInteger(stats.pageSize) && Number.isSafeInteger(stats.lastPageNumber), "lmdb stats lack pageSize or lastPageNumber");
    // The file's used extent: LMDB reuses freed pages but never shrinks the file.
    return { sizeBytes: stats.pageSize * (stats.lastPageNumber + 1), entries: stats.entryCount };
  }

  /** Waits for queued writes to commit and flush, then closes the environment. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Writes accepted before the close are still written.
    await this.gate.whenDrained();
    await this.db.flushed;
    await this.db.close();
  }

  /** Hands one write to lmdb-js (it joins this turn's transaction): its commit promise and that transaction's flush. */
  private issue(ops: readonly WriteOp[]): IssuedWrite {
    // One op is atomic on its own; skipping batch() saves its block instructions on the
    // hottest path (a replica storing one version).
    const committed = (ops.length === 1 ? this.apply(ops[0]!) : this.db.batch(() => this.applyAll(ops))) as CommitPromise;
    const flushed = committed.flushed;
    assert(flushed !== undefined, "lmdb-js gave no flush promise; separateFlushed must be on");
    return { committed, flushed };
  }

  private applyAll(ops: readonly WriteOp[]): void {
    for (let i = 0; i < ops.length; i++) void this.apply(ops[i]!);
  }

  /** Queues one op (its value is already a copy: write()). */
  private apply(op: WriteOp): Promise<boolean> {
    return op.type === "put" ? this.db.put(op.key, op.value) : this.db.remove(op.key);
  }

  private *plainEntries(entries: Iterable<{ key: Uint8Array; value: Uint8Array }>): Generator<Entry> {
    for (const entry of entries) {
      this.checkOpen("range");
      yield { key: plain(entry.key), value: plain(entry.value) };
    }
  }

  private checkOpen(action: string): void {
    if (this.closed) throw storageClosedError(this.kind, action);
  }
}

const ignore = (): void => undefined;

/** Writes that may wait for the disk at once (bounded upstream by key locks and in-flight requests; a backstop). */
const writesQueuedMax = 65_536;

const LOWEST_KEY = Object.freeze({ key: Uint8Array.of(0x00), inclusive: true });

/** A plain Uint8Array view of lmdb-js's Buffer, so both engines hand out the same type. */
function plain(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
