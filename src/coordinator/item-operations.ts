import type { TableDefinition } from "../catalog/table-definition.js";
import type { ItemWrite, WriteCondition } from "../replica/item-write.js";
import type { StoreResult } from "../replica/store-result.js";
import type { HlcTimestamp } from "../versioning/hybrid-logical-clock.js";

/**
 * The operations the front doors (api/) run on items, whoever carries them out: the
 * single-node `LocalCoordinator` now, a quorum coordinator over the preference list with the
 * cluster issue. The api sees only this interface. Keys are the user's raw key bytes (the
 * partition key); the coordinator owns the encoding. Not-found is a normal result
 * (`undefined`), not a failure; expected failures are values.
 */
export interface ItemVersion {
  readonly value: Uint8Array;
  readonly contentType: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** Names this version; the HTTP ETag is it, quoted. */
  readonly version: string;
  /** Hybrid-logical-clock timestamp of the write; its physical part is Last-Modified. */
  readonly timestamp: HlcTimestamp;
  readonly expiresAtMs: number | null;
}

export interface ListedItem {
  key: Uint8Array;
  item: ItemVersion;
}

export interface ListRequest {
  /** Raw key prefix; empty for the whole table. */
  prefix: Uint8Array;
  /** Resume strictly after this raw key. */
  after?: Uint8Array;
  limit: number;
}

export interface ListPage {
  items: ListedItem[];
  /** The raw key to resume after, or null at the end. */
  resumeAfter: Uint8Array | null;
}

export type BatchItemWrite = { type: "put"; key: Uint8Array; write: ItemWrite } | { type: "delete"; key: Uint8Array };

export type BatchItemOutcome = { type: "put"; item: ItemVersion } | { type: "delete"; existed: boolean };

export interface BatchResult {
  gets: Array<ItemVersion | undefined>;
  writes: BatchItemOutcome[];
}

export interface PutResult {
  item: ItemVersion;
  created: boolean;
}

export interface ItemOperations {
  get(table: TableDefinition, key: Uint8Array): Promise<StoreResult<ItemVersion | undefined>>;
  put(table: TableDefinition, key: Uint8Array, write: ItemWrite, condition: WriteCondition): Promise<StoreResult<PutResult>>;
  delete(table: TableDefinition, key: Uint8Array, condition: WriteCondition): Promise<StoreResult<ItemVersion>>;
  list(table: TableDefinition, request: ListRequest): Promise<StoreResult<ListPage>>;
  /** Gets answered and writes applied atomically; no key may appear twice among the writes. */
  batch(table: TableDefinition, gets: readonly Uint8Array[], writes: readonly BatchItemWrite[]): Promise<StoreResult<BatchResult>>;
}
