import type { NodeId } from "../runtime/network.js";
import { hlcFrom } from "../versioning/hybrid-logical-clock.js";
import type { CatalogStamp, NameRecord, TableIncarnation, TableSettings } from "./catalog-record.js";
import { settleNameRecord } from "./merge-name-record.js";
import type { Replication, TableDefinition } from "./table-definition.js";
import { checkTableExtensions } from "./table-extensions.js";

/**
 * Checks a name record that came from a peer or from disk before the catalog merges it: every
 * field typed and bounded, incarnations unique by id and sorted, the record settled. Returns
 * undefined for anything else; the catalog refuses the message (or, on disk, the start).
 *
 * A definition written by the single-node catalog (a bare TableDefinition) is read as a record
 * with one incarnation created by this node at its creation time, so an upgraded node keeps its
 * tables and their ids.
 */
export interface NameRecordBounds {
  nameLengthMax: number;
  incarnationsMax: number;
  extensionsBytesMax: number;
}

const replicationMax = 64;

export function parseNameRecord(value: unknown, bounds: NameRecordBounds): NameRecord | undefined {
  if (!isObject(value)) return undefined;
  const { name, dropFloor, incarnations } = value;
  if (!isName(name, bounds) || !Array.isArray(incarnations) || incarnations.length > bounds.incarnationsMax) return undefined;
  const floor = dropFloor === null ? null : parseStamp(dropFloor);
  if (floor === undefined) return undefined;
  const parsed: TableIncarnation[] = [];
  for (const item of incarnations) {
    const incarnation = parseIncarnation(item, bounds);
    if (incarnation === undefined) return undefined;
    parsed.push(incarnation);
  }
  parsed.sort((a, b) => a.id - b.id);
  if (parsed.some((incarnation, i) => i > 0 && parsed[i - 1]!.id === incarnation.id)) return undefined;
  return settleNameRecord({ name, dropFloor: floor, incarnations: parsed });
}

/** The single-node catalog's stored definition as a record (see above). */
export function legacyNameRecord(value: unknown, nodeId: NodeId, bounds: NameRecordBounds): NameRecord | undefined {
  if (!isObject(value) || "incarnations" in value) return undefined;
  const table = value as unknown as TableDefinition;
  if (!isName(table.name, bounds) || !isTableId(table.id) || !isCount(table.createdAtMs)) return undefined;
  const created: CatalogStamp = { at: hlcFrom(table.createdAtMs, 0), by: nodeId };
  return parseNameRecord(
    {
      name: table.name,
      dropFloor: null,
      incarnations: [{ id: table.id, created, createdAtMs: table.createdAtMs, consistency: table.consistency, conflicts: table.conflicts, settings: { stamp: created, replication: table.replication }, dead: false }],
    },
    bounds,
  );
}

function parseIncarnation(value: unknown, bounds: NameRecordBounds): TableIncarnation | undefined {
  if (!isObject(value)) return undefined;
  const { id, created, createdAtMs, consistency, conflicts, settings, dead } = value;
  const stamp = parseStamp(created);
  const parsedSettings = parseSettings(settings, bounds);
  if (!isTableId(id) || stamp === undefined || !isCount(createdAtMs) || parsedSettings === undefined || typeof dead !== "boolean") return undefined;
  if (consistency !== "eventual" && consistency !== "strong") return undefined;
  if (conflicts !== "siblings" && conflicts !== "lww") return undefined;
  return { id, created: stamp, createdAtMs, consistency, conflicts, settings: parsedSettings, dead };
}

function parseSettings(value: unknown, bounds: NameRecordBounds): TableSettings | undefined {
  if (!isObject(value)) return undefined;
  const stamp = parseStamp(value.stamp);
  const replication = parseReplication(value.replication);
  if (stamp === undefined || replication === undefined) return undefined;
  if (value.extensions === undefined) return { stamp, replication };
  if (!checkTableExtensions(value.extensions, bounds.extensionsBytesMax).ok) return undefined;
  return { stamp, replication, extensions: value.extensions as Record<string, unknown> };
}

function parseReplication(value: unknown): Replication | undefined {
  if (!isObject(value)) return undefined;
  const { n, r, w } = value;
  const inRange = (x: unknown): x is number => isCount(x) && x >= 1 && x <= replicationMax;
  return inRange(n) && inRange(r) && inRange(w) ? { n, r, w } : undefined;
}

function parseStamp(value: unknown): CatalogStamp | undefined {
  if (!isObject(value)) return undefined;
  const { at, by } = value;
  return isCount(at) && typeof by === "string" && by.length > 0 && by.length <= 256 ? { at, by } : undefined;
}

function isName(value: unknown, bounds: NameRecordBounds): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= bounds.nameLengthMax;
}

function isTableId(value: unknown): value is number {
  return isCount(value) && value > 0 && value <= 0xffffffff;
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
