import type { NodeId } from "../runtime/network.js";
import type { HlcTimestamp } from "../versioning/hybrid-logical-clock.js";
import type { ConflictMode, Consistency, Replication, TableDefinition, TableExtensions } from "./table-definition.js";

/**
 * The replicated form of the catalog: one `NameRecord` per table name, a state-based CRDT that
 * every node merges the same way (merge-name-record.ts) and persists under the name's catalog
 * key. It replaces the single-node catalog's plain definition, so that "any node accepts any
 * request" (issue 3): every node learns every create, update and drop, by push at once and by
 * the background catalog sync later.
 *
 * - An incarnation is one create of the name: its table id, who created it and when (a
 *   hybrid-logical-clock stamp), its fixed modes, and its settings (replication, extensions),
 *   a last-writer-wins register stamped by the update that wrote it.
 * - `dropFloor` is the highest drop stamp of the name: every incarnation created below it is
 *   dead. A drop is stamped above every create it saw, so a drop always beats a create it saw,
 *   and a concurrent create with a lower stamp too.
 * - `dead` is sticky: once an incarnation lost (to a drop or to a concurrent create with a lower
 *   stamp) it stays dead on every node, its items are purged and its id is never used again.
 */
export interface CatalogStamp {
  readonly at: HlcTimestamp;
  readonly by: NodeId;
}

export interface TableSettings {
  readonly stamp: CatalogStamp;
  readonly replication: Replication;
  readonly extensions?: TableExtensions;
}

export interface TableIncarnation {
  readonly id: number;
  readonly created: CatalogStamp;
  /** Wall-clock time of the create, for display only (never compared). */
  readonly createdAtMs: number;
  readonly consistency: Consistency;
  readonly conflicts: ConflictMode;
  readonly settings: TableSettings;
  readonly dead: boolean;
}

export interface NameRecord {
  readonly name: string;
  readonly dropFloor: CatalogStamp | null;
  /** Sorted by id; ids are unique within the record. */
  readonly incarnations: readonly TableIncarnation[];
}

/** Orders stamps by time, then by node id, so two stamps are equal only if they are the same. */
export function compareStamps(a: CatalogStamp, b: CatalogStamp): number {
  if (a.at !== b.at) return a.at < b.at ? -1 : 1;
  return a.by < b.by ? -1 : a.by > b.by ? 1 : 0;
}

export function maxStamp(a: CatalogStamp | null, b: CatalogStamp | null): CatalogStamp | null {
  if (a === null) return b;
  if (b === null) return a;
  return compareStamps(a, b) >= 0 ? a : b;
}

/** The record's live incarnation, if any (merge leaves at most one). */
export function liveIncarnation(record: NameRecord): TableIncarnation | undefined {
  return record.incarnations.find((incarnation) => !incarnation.dead);
}

/** The highest stamp anywhere in a record: a new change of the name must be stamped above it. */
export function highestStamp(record: NameRecord): CatalogStamp | null {
  let highest = record.dropFloor;
  for (const incarnation of record.incarnations) highest = maxStamp(highest, maxStamp(incarnation.created, incarnation.settings.stamp));
  return highest;
}

/** The definition the item path, the API and the purger see for a live incarnation. */
export function definitionOf(name: string, incarnation: TableIncarnation): TableDefinition {
  const { settings } = incarnation;
  return {
    name,
    id: incarnation.id,
    replication: settings.replication,
    consistency: incarnation.consistency,
    conflicts: incarnation.conflicts,
    createdAtMs: incarnation.createdAtMs,
    ...(settings.extensions !== undefined ? { extensions: settings.extensions } : {}),
  };
}
