import { pack, unpack } from "msgpackr";
import type { Runtime } from "../runtime/runtime.js";
import type { WriteOp } from "../storage/storage-engine.js";
import { Namespace, catalogKey, metaKey, namespacePrefix } from "../storage/keyspace.js";
import { assert } from "../assert.js";
import type { TableDefinition, TableSpec } from "./table-definition.js";

/**
 * Table definitions, stored in the key space (one catalog key per table) and cached in memory,
 * so a lookup on the item path is one Map read. Ids come from a persisted counter and are never
 * reused. Dropping a table removes its definition and records its id in the drop list in one
 * atomic write; `TablePurger` (replica/) removes the items in the background and clears the
 * entry, and resumes after a restart.
 *
 * Single node for now: the cluster issue replaces the storage of definitions by gossiped or
 * strongly replicated metadata behind the same methods.
 */
export type CatalogFailure =
  | { code: "TableExists"; message: string }
  | { code: "TableNotFound"; message: string }
  | { code: "TooManyTables"; message: string };

export type CatalogResult<T> = { ok: true; value: T } | { ok: false; error: CatalogFailure };

export interface TableCatalogOptions {
  tablesMax: number;
  durableWrites: boolean;
}

const nextTableIdKey = metaKey("catalog.nextTableId");
export const droppedTablesKey = metaKey("catalog.droppedTables");

export class TableCatalog {
  private readonly byName = new Map<string, TableDefinition>();
  private readonly liveIds = new Set<number>();
  /** Names being created or dropped right now: a second change to one name waits its turn. */
  private readonly changing = new Set<string>();
  private nextTableId: number;
  private droppedTableIds: number[];

  private constructor(
    private readonly runtime: Runtime,
    private readonly options: TableCatalogOptions,
    state: { tables: TableDefinition[]; nextTableId: number; dropped: number[] },
  ) {
    for (const table of state.tables) {
      this.byName.set(table.name, table);
      this.liveIds.add(table.id);
    }
    this.nextTableId = state.nextTableId;
    this.droppedTableIds = state.dropped;
  }

  /** Loads every definition; the catalog is bounded by tablesMax, so one scan is bounded too. */
  static open(runtime: Runtime, options: TableCatalogOptions): TableCatalog {
    const storage = runtime.storage;
    const tables: TableDefinition[] = [];
    let highestId = 0;
    for (const entry of storage.range({ prefix: namespacePrefix(Namespace.catalog), limit: options.tablesMax + 1 })) {
      const table = unpack(entry.value) as TableDefinition;
      assert(typeof table.name === "string" && Number.isSafeInteger(table.id), "catalog entry is not a table definition");
      tables.push(table);
      highestId = Math.max(highestId, table.id);
    }
    // Loading only part of the catalog would hide tables; refuse to start instead.
    if (tables.length > options.tablesMax) {
      throw new Error(`cannot open the table catalog: it holds more than ${options.tablesMax} tables; raise limits.tablesMax to start this node`);
    }
    const counter = storage.get(nextTableIdKey);
    const dropped = readDroppedTableIds(runtime);
    for (const id of dropped) highestId = Math.max(highestId, id);
    const nextTableId = Math.max(counter === undefined ? 1 : (unpack(counter) as number), highestId + 1);
    return new TableCatalog(runtime, options, { tables, nextTableId, dropped });
  }

  get(name: string): TableDefinition | undefined {
    return this.byName.get(name);
  }

  /**
   * Whether a table id is live. Writes check it (synchronously, right before they reach
   * storage), so a write that looked its table up before a drop cannot land after the purge.
   */
  isLive(tableId: number): boolean {
    return this.liveIds.has(tableId);
  }

  list(): TableDefinition[] {
    return [...this.byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Ids of dropped tables whose items may still be in storage. */
  droppedIds(): readonly number[] {
    return this.droppedTableIds;
  }

  async create(spec: TableSpec): Promise<CatalogResult<TableDefinition>> {
    if (this.byName.has(spec.name) || this.changing.has(spec.name)) {
      return { ok: false, error: { code: "TableExists", message: `cannot create table "${spec.name}": it exists` } };
    }
    if (this.byName.size + this.changing.size >= this.options.tablesMax) {
      const message = `cannot create table "${spec.name}": ${this.byName.size} tables exist; the limit is ${this.options.tablesMax}`;
      return { ok: false, error: { code: "TooManyTables", message } };
    }
    const id = this.nextTableId++;
    const table: TableDefinition = {
      name: spec.name,
      id,
      replication: { ...spec.replication },
      consistency: spec.consistency,
      conflicts: spec.conflicts,
      createdAtMs: this.runtime.clock.nowMs(),
    };
    this.changing.add(spec.name);
    try {
      await this.runtime.storage.write(
        [
          { type: "put", key: catalogKey(spec.name), value: pack(table) },
          { type: "put", key: nextTableIdKey, value: pack(this.nextTableId) },
        ],
        { durable: this.options.durableWrites },
      );
      this.byName.set(spec.name, table);
      this.liveIds.add(id);
    } finally {
      this.changing.delete(spec.name);
    }
    return { ok: true, value: table };
  }

  /**
   * Removes the definition at once (its items become unreachable) and queues the id for the
   * background purge, in one atomic write so a crash cannot lose the purge.
   */
  async drop(name: string): Promise<CatalogResult<TableDefinition>> {
    const table = this.byName.get(name);
    if (table === undefined || this.changing.has(name)) {
      return { ok: false, error: { code: "TableNotFound", message: `cannot drop table "${name}": it does not exist` } };
    }
    // State changes before the write so a concurrent forgetDropped sees this id; writes commit
    // in call order, so the last list written is the last list computed.
    this.byName.delete(name);
    this.liveIds.delete(table.id);
    this.changing.add(name);
    this.droppedTableIds = [...this.droppedTableIds, table.id];
    try {
      await this.writeDropList(this.droppedTableIds, { type: "delete", key: catalogKey(name) });
    } catch (error) {
      this.byName.set(name, table);
      this.liveIds.add(table.id);
      this.droppedTableIds = this.droppedTableIds.filter((id) => id !== table.id);
      throw error;
    } finally {
      this.changing.delete(name);
    }
    return { ok: true, value: table };
  }

  /** Called by the purger once every item of a dropped table is gone. */
  async forgetDropped(tableId: number): Promise<void> {
    const remaining = this.droppedTableIds.filter((id) => id !== tableId);
    this.droppedTableIds = remaining;
    await this.writeDropList(remaining);
  }

  private async writeDropList(ids: number[], extra?: WriteOp): Promise<void> {
    const ops: WriteOp[] = [{ type: "put", key: droppedTablesKey, value: pack(ids) }];
    if (extra !== undefined) ops.push(extra);
    await this.runtime.storage.write(ops, { durable: this.options.durableWrites });
  }
}

function readDroppedTableIds(runtime: Runtime): number[] {
  const bytes = runtime.storage.get(droppedTablesKey);
  if (bytes === undefined) return [];
  const ids = unpack(bytes) as number[];
  assert(Array.isArray(ids), "dropped-table list is not an array");
  return ids;
}
