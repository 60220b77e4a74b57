import { pack, unpack } from "msgpackr";
import type { Runtime } from "../runtime/runtime.js";
import type { Bytes, WriteOp } from "../storage/storage-engine.js";
import { decodeRecord, encodeRecord, type StoredRecord } from "../storage/record.js";
import { decodeExpiryIndexKey, expiryIndexBound, expiryIndexKey, metaKey } from "../storage/keyspace.js";
import { assert } from "../assert.js";
import { hlcFrom, hlcPhysicalMs } from "../versioning/hybrid-logical-clock.js";
import { KeyLocks, defaultKeyLocksOptions, type KeyLocksOptions } from "./key-locks.js";
import type { ItemWrite, WriteCondition } from "./item-write.js";
import { conditionRefusal } from "./check-condition.js";
import { storeFailure, type StoreResult } from "./store-result.js";

/**
 * What a node does for the keys it holds, over a StorageEngine (DESIGN.md, replica/): read a
 * record (an expired one reads as absent at once), conditional put and delete, an atomic batch,
 * a bounded range scan, and the expiry index that lets a sweeper find expired records without
 * scanning the table.
 *
 * Keys here are encoded item keys (storage/item-key.ts); the coordinator encodes them.
 * A check-then-write holds the key's lock (KeyLocks) across the read, the decision and the
 * storage write, so it is atomic against concurrent requests; unrelated writes run
 * concurrently and share the engine's group commit.
 *
 * Timestamps never go backwards across a restart: a meta key holds a floor above every
 * timestamp in storage, and `restoreClock` advances the HLC to it at start. The floor is a
 * lease (hlcFloorLeaseMs ahead of the newest timestamp), written in the same atomic batch as
 * the first record that would reach it, so a busy node writes it about once per lease rather
 * than on every write. Invariant: every committed record's timestamp is below a floor that
 * committed no later than the record (storage commits batches in issue order).
 */
export interface ItemStoreOptions {
  durableWrites: boolean;
  locks?: KeyLocksOptions;
  /**
   * Whether writes to a table id may still land (the catalog's view). Checked after the key
   * locks are held and right before the storage write is issued, in the same turn: a write
   * that passes was queued before any drop of its table, so the purge will see it.
   */
  isTableLive?: (tableId: number) => boolean;
}

export type BatchWrite = { type: "put"; itemKey: Bytes; write: ItemWrite } | { type: "delete"; itemKey: Bytes };

export type BatchWriteOutcome = { type: "put"; record: StoredRecord } | { type: "delete"; existed: boolean };

export interface BatchOutcome {
  gets: Array<StoredRecord | undefined>;
  writes: BatchWriteOutcome[];
}

export interface ScanEntry {
  itemKey: Bytes;
  record: StoredRecord;
}

export interface ScanPage {
  /** Live records, in key order. */
  entries: ScanEntry[];
  /** Resume strictly after this key; null when the range is exhausted. */
  resumeAfter: Bytes | null;
}

export interface PutOutcome {
  record: StoredRecord;
  created: boolean;
}

const hlcFloorKey = metaKey("replica.hlcFloor");
/** How far the persisted HLC floor runs ahead of the newest timestamp; bounds how far ahead of the wall clock Last-Modified can be after a restart. */
const hlcFloorLeaseMs = 1000;
const noBytes = new Uint8Array(0);
const tableGone = storeFailure("TableNotFound", "the table was dropped while the write waited");
const overloaded = storeFailure("Overloaded", "too many writes are waiting on the same keys; retry later");

export class ItemStore {
  private readonly locks: KeyLocks;
  private readonly writeOptions: { durable: boolean };
  private readonly isTableLive: (tableId: number) => boolean;
  /** The highest HLC floor written or being written (see the class comment). */
  private hlcFloor = 0;

  constructor(
    private readonly runtime: Runtime,
    options: ItemStoreOptions,
  ) {
    this.locks = new KeyLocks(options.locks ?? defaultKeyLocksOptions);
    this.writeOptions = { durable: options.durableWrites };
    this.isTableLive = options.isTableLive ?? (() => true);
    // The node id is part of every version, and versions travel quoted as ETags.
    assert(!runtime.nodeId.includes('"') && runtime.nodeId.length > 0, `node id ${JSON.stringify(runtime.nodeId)} cannot name versions`);
  }

  /** Advances the HLC past every timestamp persisted before a restart. */
  restoreClock(): void {
    const bytes = this.runtime.storage.get(hlcFloorKey);
    if (bytes === undefined) return;
    const floor = unpack(bytes) as number;
    this.runtime.hlc.advanceTo(floor);
    this.hlcFloor = floor;
  }

  /** The live record, or undefined when absent or expired. */
  read(itemKey: Bytes): StoredRecord | undefined {
    const bytes = this.runtime.storage.get(itemKey);
    if (bytes === undefined) return undefined;
    const record = decodeRecord(bytes);
    return isExpired(record, this.runtime.clock.nowMs()) ? undefined : record;
  }

  async put(itemKey: Bytes, write: ItemWrite, condition: WriteCondition): Promise<StoreResult<PutOutcome>> {
    const lock = [lockName(itemKey)];
    if (!this.locks.tryAcquireOne(lock[0]!) && !(await this.locks.acquire(lock))) return overloaded;
    try {
      const previous = this.readAny(itemKey);
      const live = previous !== undefined && !isExpired(previous, this.runtime.clock.nowMs()) ? previous : undefined;
      const refusal = conditionRefusal(live, condition);
      if (refusal !== null) return storeFailure("PreconditionFailed", refusal);
      if (!this.isTableLive(tableIdOf(itemKey))) return tableGone;
      const ops: WriteOp[] = [];
      const record = this.addPut(ops, itemKey, write, previous);
      await this.commit(ops);
      return { ok: true, value: { record, created: live === undefined } };
    } finally {
      this.locks.release(lock);
    }
  }

  /** Removes a live record (and its expiry-index entry); the deleted record is returned. */
  async delete(itemKey: Bytes, condition: WriteCondition): Promise<StoreResult<StoredRecord>> {
    const lock = [lockName(itemKey)];
    if (!this.locks.tryAcquireOne(lock[0]!) && !(await this.locks.acquire(lock))) return overloaded;
    try {
      const previous = this.readAny(itemKey);
      const live = previous !== undefined && !isExpired(previous, this.runtime.clock.nowMs()) ? previous : undefined;
      if (live === undefined && condition.ifMatch === undefined) return storeFailure("ItemNotFound", "the item does not exist");
      const refusal = conditionRefusal(live, condition);
      if (refusal !== null) return storeFailure("PreconditionFailed", refusal);
      assert(live !== undefined);
      if (!this.isTableLive(tableIdOf(itemKey))) return tableGone;
      const ops: WriteOp[] = [];
      addDelete(ops, itemKey, live);
      await this.commit(ops);
      return { ok: true, value: live };
    } finally {
      this.locks.release(lock);
    }
  }

  /**
   * Reads `gets` and applies every write in one storage write (all or nothing), holding the
   * written keys' locks throughout, so the gets see a state no concurrent write splits.
   * Precondition: no key appears twice among the writes.
   */
  async batch(gets: readonly Bytes[], writes: readonly BatchWrite[]): Promise<StoreResult<BatchOutcome>> {
    const lock = writes.map((w) => lockName(w.itemKey));
    assert(new Set(lock).size === lock.length, "a batch writes one key twice");
    if (!(await this.locks.acquire(lock))) return overloaded;
    try {
      for (const w of writes) if (!this.isTableLive(tableIdOf(w.itemKey))) return tableGone;
      const outcome: BatchOutcome = { gets: gets.map((key) => this.read(key)), writes: [] };
      const now = this.runtime.clock.nowMs();
      const ops: WriteOp[] = [];
      for (const w of writes) {
        const previous = this.readAny(w.itemKey);
        if (w.type === "put") {
          outcome.writes.push({ type: "put", record: this.addPut(ops, w.itemKey, w.write, previous) });
        } else {
          if (previous !== undefined) addDelete(ops, w.itemKey, previous);
          outcome.writes.push({ type: "delete", existed: previous !== undefined && !isExpired(previous, now) });
        }
      }
      if (ops.length > 0) await this.commit(ops);
      return { ok: true, value: outcome };
    } finally {
      if (lock.length > 0) this.locks.release(lock);
    }
  }

  /**
   * At most `limit` live records under `prefix`, strictly after `after`, scanning at most
   * `limit + 1` stored entries (expired ones are skipped, so a page may come back short with a
   * resume key: the caller follows it).
   */
  scan(options: { prefix: Bytes; after?: Bytes; limit: number }): ScanPage {
    const { prefix, after, limit } = options;
    assert(limit > 0, "scan limit must be positive");
    const now = this.runtime.clock.nowMs();
    const entries: ScanEntry[] = [];
    let scanned = 0;
    let lastKey: Bytes | null = null;
    const range = this.runtime.storage.range({ prefix, limit: limit + 2, ...(after !== undefined ? { start: after } : {}) });
    for (const entry of range) {
      if (after !== undefined && scanned === 0 && lastKey === null && bytesEqual(entry.key, after)) continue;
      if (scanned === limit) return { entries, resumeAfter: lastKey };
      scanned++;
      lastKey = entry.key;
      const record = decodeRecord(entry.value);
      if (!isExpired(record, now)) entries.push({ itemKey: entry.key, record });
    }
    return { entries, resumeAfter: null };
  }

  /**
   * One bounded step of the expiry sweep: removes up to `limit` records whose expiry has
   * passed, found through the expiry index. A record rewritten since its index entry was made
   * (another expiry, or none) is kept; only the stale entry goes. Returns the index entries
   * processed and how many records expired.
   */
  async sweepExpired(limit: number): Promise<{ processed: number; expired: number }> {
    const now = this.runtime.clock.nowMs();
    const due: Array<{ indexKey: Bytes; itemKey: Bytes; expiresAtMs: number }> = [];
    const range = this.runtime.storage.range({ start: expiryIndexBound(0), end: expiryIndexBound(now + 1), limit });
    for (const entry of range) {
      const { expiresAtMs, itemKey } = decodeExpiryIndexKey(entry.key);
      due.push({ indexKey: entry.key, itemKey, expiresAtMs });
    }
    if (due.length === 0) return { processed: 0, expired: 0 };
    const lock = due.map((d) => lockName(d.itemKey));
    if (!(await this.locks.acquire(lock))) return { processed: 0, expired: 0 };
    try {
      const ops: WriteOp[] = [];
      let expired = 0;
      for (const d of due) {
        ops.push({ type: "delete", key: d.indexKey });
        const record = this.readAny(d.itemKey);
        if (record !== undefined && record.expiresAtMs === d.expiresAtMs) {
          ops.push({ type: "delete", key: d.itemKey });
          expired++;
        }
      }
      // Not durable: a crash that loses a sweep only means the sweep runs again.
      await this.runtime.storage.write(ops);
      return { processed: due.length, expired };
    } finally {
      this.locks.release(lock);
    }
  }

  /**
   * One bounded step of removing a dropped table: deletes up to `limit` records under
   * `prefix` with their expiry-index entries. Nobody writes a dropped table's keys (its id is
   * never reused), so no locks are needed. Returns how many records it removed.
   */
  async purgeStep(prefix: Bytes, limit: number): Promise<number> {
    const ops: WriteOp[] = [];
    let removed = 0;
    for (const entry of this.runtime.storage.range({ prefix, limit })) {
      addDelete(ops, entry.key, decodeRecord(entry.value));
      removed++;
    }
    if (ops.length > 0) await this.runtime.storage.write(ops);
    return removed;
  }

  /** A record, even an expired one (writes must clean up its expiry-index entry). */
  private readAny(itemKey: Bytes): StoredRecord | undefined {
    const bytes = this.runtime.storage.get(itemKey);
    return bytes === undefined ? undefined : decodeRecord(bytes);
  }

  private addPut(ops: WriteOp[], itemKey: Bytes, write: ItemWrite, previous: StoredRecord | undefined): StoredRecord {
    const timestamp = this.runtime.hlc.now();
    const record: StoredRecord = {
      value: write.value,
      contentType: write.contentType,
      metadata: write.metadata,
      timestamp,
      version: `${timestamp.toString(36)}-${this.runtime.nodeId}`,
      tombstone: false,
      expiresAtMs: write.expiresAtMs,
    };
    ops.push({ type: "put", key: itemKey, value: encodeRecord(record) });
    const oldExpiry = previous?.expiresAtMs ?? null;
    if (oldExpiry !== null && oldExpiry !== write.expiresAtMs) ops.push({ type: "delete", key: expiryIndexKey(oldExpiry, itemKey) });
    if (write.expiresAtMs !== null && write.expiresAtMs !== oldExpiry) {
      ops.push({ type: "put", key: expiryIndexKey(write.expiresAtMs, itemKey), value: noBytes });
    }
    return record;
  }

  private async commit(ops: WriteOp[]): Promise<void> {
    const newest = this.runtime.hlc.peek();
    if (newest >= this.hlcFloor) {
      this.hlcFloor = hlcFrom(hlcPhysicalMs(newest) + hlcFloorLeaseMs, 0);
      ops.push({ type: "put", key: hlcFloorKey, value: pack(this.hlcFloor) });
    }
    try {
      await this.runtime.storage.write(ops, this.writeOptions);
    } catch (error) {
      // The floor this batch carried may not have landed: make the next write carry one.
      this.hlcFloor = 0;
      throw error;
    }
  }
}

function addDelete(ops: WriteOp[], itemKey: Bytes, previous: StoredRecord): void {
  ops.push({ type: "delete", key: itemKey });
  if (previous.expiresAtMs !== null) ops.push({ type: "delete", key: expiryIndexKey(previous.expiresAtMs, itemKey) });
}

function isExpired(record: StoredRecord, nowMs: number): boolean {
  return record.expiresAtMs !== null && record.expiresAtMs <= nowMs;
}

/** The table id of an encoded item key (item-key.ts: namespace byte, then u32 big-endian). */
function tableIdOf(itemKey: Bytes): number {
  return ((itemKey[1]! << 24) >>> 0) + (itemKey[2]! << 16) + (itemKey[3]! << 8) + itemKey[4]!;
}

function lockName(itemKey: Bytes): string {
  return Buffer.from(itemKey.buffer, itemKey.byteOffset, itemKey.byteLength).toString("latin1");
}

function bytesEqual(a: Bytes, b: Bytes): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
