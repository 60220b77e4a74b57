/**
 * The storage backend as a formal interface (riak_kv's backend behaviour). Two
 * implementations run one contract suite (test/contracts/storage-engine.contract.ts):
 * `LmdbStorageEngine` (the default, on disk) and `MemoryStorageEngine` (tests and the
 * simulator; it can simulate a crash that loses what was not yet durable).
 *
 * Keys and values are bytes; keys sort as unsigned bytes (memcmp order), which is what the
 * order-preserving item-key encoding relies on.
 *
 * Reads are synchronous: both engines answer from memory or a memory map in microseconds, and
 * a synchronous read cannot interleave with another request's write. Writes are asynchronous
 * and grouped: many `write` calls in one turn of the event loop share one transaction and one
 * fsync (group commit).
 */
export type Bytes = Uint8Array;

export type WriteOp = { type: "put"; key: Bytes; value: Bytes } | { type: "delete"; key: Bytes };

export interface Entry {
  key: Bytes;
  value: Bytes;
}

export interface RangeOptions {
  /** Inclusive lower bound (upper bound when reverse). */
  start?: Bytes;
  /** Exclusive upper bound (lower bound when reverse). */
  end?: Bytes;
  /** Only keys starting with these bytes; combines with start/end. */
  prefix?: Bytes;
  /** At most this many entries. */
  limit?: number;
  /** Descending key order. `start` stays the inclusive high end, `end` the exclusive low end. */
  reverse?: boolean;
}

export interface WriteOptions {
  /**
   * Resolve only once the batch is durable (survives power loss, not just a process crash).
   * Concurrent durable writes share one fsync.
   */
  durable?: boolean;
}

export interface StorageStats {
  /** Bytes the engine occupies (file size for LMDB, key and value bytes for memory). */
  sizeBytes: number;
  /** Number of entries, when cheap to know; otherwise undefined. */
  entries?: number;
}

export interface StorageEngine {
  readonly kind: "lmdb" | "memory";
  get(key: Bytes): Bytes | undefined;
  /** Entries in key order (or reverse), lazily; callers bound work with `limit`. */
  range(options: RangeOptions): Iterable<Entry>;
  /**
   * Applies every op atomically: after the promise resolves all are visible, and a crash
   * leaves all or none. Resolves after commit; with `durable`, after the data is on disk.
   */
  write(ops: readonly WriteOp[], options?: WriteOptions): Promise<void>;
  /** Durability barrier: resolves once every write committed before the call is on disk. */
  sync(): Promise<void>;
  stats(): StorageStats;
  close(): Promise<void>;
}
