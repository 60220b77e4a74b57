/**
 * A table's definition as cluster metadata (DESIGN.md, "Data model"): its name, a numeric id
 * that prefixes every item key (ids are never reused, so a dropped table's leftovers can never
 * show through a new table of the same name), replication {n, r, w}, consistency mode and
 * conflict mode. Later issues honour replication, consistency and conflicts; this one stores
 * them and shows the values a cluster of the current size can actually give.
 */
export type Consistency = "eventual" | "strong";
export type ConflictMode = "siblings" | "lww";

export interface Replication {
  /** Replicas per key (the Dynamo paper's N). */
  n: number;
  /** Replies a read waits for. */
  r: number;
  /** Acknowledgements a write waits for. */
  w: number;
}

export interface TableDefinition {
  readonly name: string;
  readonly id: number;
  readonly replication: Replication;
  readonly consistency: Consistency;
  readonly conflicts: ConflictMode;
  /** Wall-clock creation time (ms since the epoch), for display only. */
  readonly createdAtMs: number;
  /**
   * Plain data a front door keeps with the table (the DynamoDB API: key schema, billing mode,
   * throughput, TTL attribute). Bounded in size (table-extensions.ts); the catalog replicates it
   * and never looks inside.
   */
  readonly extensions?: TableExtensions;
}

export type TableExtensions = Readonly<Record<string, unknown>>;

/** What a client asks for; validated by `validateTableSpec`. */
export interface TableSpec {
  name: string;
  replication: Replication;
  consistency: Consistency;
  conflicts: ConflictMode;
  extensions?: TableExtensions;
}

/**
 * What `TableCatalog.update` may change after create. Consistency and conflict mode are fixed
 * for a table's life: items already written depend on them. `extensions` replaces the whole
 * record (front doors read-modify-write their own keys).
 */
export interface TablePatch {
  replication?: Replication;
  extensions?: TableExtensions;
}

export const defaultReplication: Readonly<Replication> = Object.freeze({ n: 3, r: 2, w: 2 });

/** Replication the cluster can give today: N capped at the member count, R and W at that N. */
export function effectiveReplication(replication: Replication, clusterSize: number): Replication {
  const n = Math.min(replication.n, clusterSize);
  return { n, r: Math.min(replication.r, n), w: Math.min(replication.w, n) };
}
