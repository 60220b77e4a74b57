import type { Consistency, TableDefinition } from "../catalog/table-definition.js";
import type { ItemWrite, WriteCondition } from "../replica/item-write.js";
import type { StoreResult } from "../replica/store-result.js";
import type { HlcTimestamp } from "../versioning/hybrid-logical-clock.js";
import type { QuorumOverrides } from "./quorum-options.js";

/**
 * The operations the front doors (REST, the binary client protocol, the DynamoDB API) run on
 * items, whoever carries them out. On a node this is the cluster coordinator: the eventual path
 * (quorums over the preference list, siblings under dotted version vectors) for eventual
 * tables, CASPaxos per key for strong tables; a single node after `npm start` is a cluster of
 * one with n, r and w capped at 1. The front doors see only this interface. Keys are the
 * user's raw key bytes (ItemKeyParts); the coordinator owns the encoding (storage/item-key.ts). Not-found is a
 * normal result, not a failure; expected failures are values (StoreFailure codes, which the
 * edge maps to HTTP statuses).
 */
/**
 * An item's key as the user gave it: the partition key places the item on the ring (its
 * preference list); the optional sort key orders items that share a partition key (DynamoDB's
 * range key; the native API uses partition keys only). Both are raw bytes.
 */
export interface ItemKeyParts {
  readonly partitionKey: Uint8Array;
  readonly sortKey?: Uint8Array;
}

export interface ItemVersion {
  readonly value: Uint8Array;
  readonly contentType: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** Names this version (of this sibling); the HTTP ETag is it, quoted. */
  readonly version: string;
  /** Hybrid-logical-clock timestamp of the write; its physical part is Last-Modified. */
  readonly timestamp: HlcTimestamp;
  readonly expiresAtMs: number | null;
}

/**
 * What a read found. `siblings` is empty when the item does not exist (or only tombstones
 * remain), holds one version on strong and last-writer-wins tables, and every concurrent
 * version on siblings tables. `context` is the opaque causal context (X-Shoal-Context) naming
 * everything the read saw, tombstones included; a write carrying it replaces exactly that.
 * It is "" when the replicas hold nothing for the key.
 */
export interface ItemRead {
  siblings: ItemVersion[];
  context: string;
  /**
   * An eventual read of a strong table (one replica, no protocol round): an upper bound in ms
   * on how old the answer may be, when the replica can tell; undefined otherwise.
   */
  staleMaxMs?: number;
}

export interface ReadOptions {
  /** ?r=, ?pr= (eventual tables); validated against the table's n by the coordinator. */
  quorum: QuorumOverrides;
  /**
   * Strong tables: "strong" (default) runs the protocol and is linearizable; "eventual" reads
   * one replica. Eventual tables accept only "eventual" (the default) and refuse "strong".
   */
  consistency?: Consistency;
}

export interface WriteOptions {
  /** ?w=, ?dw=, ?pw= (eventual tables). */
  quorum: QuorumOverrides;
  /**
   * If-Match / If-None-Match over versions. Atomic on strong tables (checked inside the
   * CASPaxos change). On eventual tables checked against the coordinator's quorum read just
   * before the write, best effort (two coordinators can both pass): documented as such.
   */
  condition: WriteCondition;
  /** The X-Shoal-Context of the read this write follows; absent for a blind write. */
  context?: string;
}

export interface PutResult {
  /** The version written (for the ETag and Last-Modified of the answer). */
  item: ItemVersion;
  /** True when no live version existed before (201 rather than 200), as far as the coordinator saw. */
  created: boolean;
  /** The causal context after the write (the client may send it with its next write). */
  context: string;
}

export interface DeleteResult {
  /** Whether a live version existed, as far as the coordinator saw. */
  existed: boolean;
}

/**
 * A read-modify-write of one key (strong tables only): CASPaxos runs `change` on the current
 * version inside the protocol round, so the decision and the write are atomic; it may run more
 * than once (after a lost race), so it must be a pure function of its argument.
 */
export type ItemChange = (current: ItemVersion | undefined) => ItemChangeDecision;

/**
 * A read-modify-write named as data, so the node that proposes the key's changes (its first live
 * primary) can build the same ItemChange (paxos/README.md, "Forwarding read-modify-writes"):
 * `kind` is registered on every node (StrongItemOperationsOptions.itemChangeKinds) with a
 * builder that turns `args` back into the change. Without it a change is proposed where it arrives.
 */
export interface NamedItemChange {
  kind: string;
  args: unknown;
}

export type ItemChangeDecision =
  | { type: "put"; write: ItemWrite }
  | { type: "delete" }
  /** Leave the item as it is and fail the request with this failure (e.g. PreconditionFailed). */
  | { type: "abort"; code: "PreconditionFailed" | "BadRequest"; message: string };

export interface ModifyResult {
  /** The version after the change; undefined after a delete (or an abort, which fails instead). */
  item: ItemVersion | undefined;
  /** The version before the change; undefined when there was none. */
  previous: ItemVersion | undefined;
}

export interface ListedItem {
  key: ItemKeyParts;
  /** The item's live versions (one unless it has siblings). */
  siblings: ItemVersion[];
}

/** A whole-table listing in key order (partition key, then sort key), across the cluster. */
export interface ListRequest {
  /** Raw partition-key prefix; empty for the whole table. */
  prefix: Uint8Array;
  /** Resume strictly after this key. */
  after?: ItemKeyParts;
  limit: number;
  /**
   * Strong tables: "strong" (the default) returns each key's value as a linearizable read
   * would, and every key a completed write left live (a majority of each partition's acceptors
   * must answer); "eventual" returns the value the answering acceptors agree on with no
   * protocol round, and reads a key they disagree on through the protocol (falling back to the
   * newest answer without a majority), so it may be stale but does not keep showing a delete
   * a lagging acceptor missed.
   * Eventual tables accept only "eventual" (the default) and refuse "strong".
   */
  consistency?: Consistency;
}

/** A bound on the sort key of a query. */
export interface SortKeyBound {
  key: Uint8Array;
  inclusive: boolean;
}

/**
 * The items of one partition key, in sort-key order (bytewise), from that key's replicas only
 * (DynamoDB's Query): optionally within [lower, upper] and/or starting with `sortKeyPrefix`,
 * forwards or backwards, resuming strictly after (or, backwards, before) `after`.
 */
export interface QueryRequest {
  partitionKey: Uint8Array;
  lower?: SortKeyBound;
  upper?: SortKeyBound;
  sortKeyPrefix?: Uint8Array;
  /** The sort key to resume after (exclusive), in the direction of the query. */
  after?: Uint8Array;
  reverse: boolean;
  limit: number;
  /** Strong tables: "strong" reads each returned key through the protocol; default "eventual". */
  consistency?: Consistency;
}

export interface ListPage {
  items: ListedItem[];
  /** The key to resume after, or null at the end. */
  resumeAfter: ItemKeyParts | null;
}

export type BatchItemWrite = { type: "put"; key: ItemKeyParts; write: ItemWrite } | { type: "delete"; key: ItemKeyParts };

export type BatchItemOutcome = { type: "put"; item: ItemVersion } | { type: "delete"; existed: boolean };

export interface BatchResult {
  gets: ItemRead[];
  writes: BatchItemOutcome[];
}

export interface ItemOperations {
  get(table: TableDefinition, key: ItemKeyParts, options: ReadOptions): Promise<StoreResult<ItemRead>>;
  put(table: TableDefinition, key: ItemKeyParts, write: ItemWrite, options: WriteOptions): Promise<StoreResult<PutResult>>;
  delete(table: TableDefinition, key: ItemKeyParts, options: WriteOptions): Promise<StoreResult<DeleteResult>>;
  /** Strong tables only; an eventual table answers BadRequest naming the table's consistency. */
  modify(table: TableDefinition, key: ItemKeyParts, change: ItemChange, named?: NamedItemChange): Promise<StoreResult<ModifyResult>>;
  list(table: TableDefinition, request: ListRequest): Promise<StoreResult<ListPage>>;
  query(table: TableDefinition, request: QueryRequest): Promise<StoreResult<ListPage>>;
  /**
   * Gets then blind writes; each key's write is applied as a put or delete would be, but the
   * batch is not atomic across keys on a cluster (each key lives on its own replicas). No key
   * may appear twice among the writes.
   */
  batch(table: TableDefinition, gets: readonly ItemKeyParts[], writes: readonly BatchItemWrite[]): Promise<StoreResult<BatchResult>>;
}
