import type { CatalogFailure, CatalogResult } from "../../catalog/table-catalog.js";
import type { TableDefinition, TablePatch, TableSpec } from "../../catalog/table-definition.js";
import type { DynamoCatalog } from "../tables/table-directory.js";

/** A table catalog in memory for tests of the DynamoDB front door (ids never reused). */
export class MemoryCatalog implements DynamoCatalog {
  private readonly byName = new Map<string, TableDefinition>();
  private nextId = 1;
  /** The next this many changes are kept but answered CatalogUnavailable (peers did not acknowledge). */
  unacknowledgedChanges = 0;

  constructor(private readonly nowMs: () => number) {}

  get(name: string): TableDefinition | undefined {
    return this.byName.get(name);
  }

  list(): TableDefinition[] {
    return [...this.byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  create(spec: TableSpec): Promise<CatalogResult<TableDefinition>> {
    if (this.byName.has(spec.name)) return Promise.resolve({ ok: false, error: { code: "TableExists", message: `cannot create table "${spec.name}": it exists` } });
    const table: TableDefinition = {
      name: spec.name,
      id: this.nextId++,
      replication: { ...spec.replication },
      consistency: spec.consistency,
      conflicts: spec.conflicts,
      createdAtMs: this.nowMs(),
      ...(spec.extensions !== undefined ? { extensions: structuredClone(spec.extensions) } : {}),
    };
    this.byName.set(spec.name, table);
    return Promise.resolve(this.acknowledge(table));
  }

  update(name: string, patch: TablePatch): Promise<CatalogResult<TableDefinition>> {
    const table = this.byName.get(name);
    if (table === undefined) return Promise.resolve({ ok: false, error: { code: "TableNotFound", message: `cannot update table "${name}": it does not exist` } });
    const updated: TableDefinition = {
      ...table,
      ...(patch.replication !== undefined ? { replication: { ...patch.replication } } : {}),
      ...(patch.extensions !== undefined ? { extensions: structuredClone(patch.extensions) } : {}),
    };
    this.byName.set(name, updated);
    return Promise.resolve(this.acknowledge(updated));
  }

  change(name: string, decide: (current: TableDefinition) => TablePatch | CatalogFailure): Promise<CatalogResult<TableDefinition>> {
    const table = this.byName.get(name);
    if (table === undefined) return Promise.resolve({ ok: false, error: { code: "TableNotFound", message: `cannot update table "${name}": it does not exist` } });
    const decided = decide(table);
    return "code" in decided ? Promise.resolve({ ok: false, error: decided }) : this.update(name, decided);
  }

  private acknowledge(table: TableDefinition): CatalogResult<TableDefinition> {
    if (this.unacknowledgedChanges === 0) return { ok: true, value: table };
    this.unacknowledgedChanges--;
    return { ok: false, error: { code: "CatalogUnavailable", message: `cannot change "${table.name}" on every node: 1 up member(s) did not acknowledge (n9)`, missing: ["n9"] } };
  }

  drop(name: string): Promise<CatalogResult<TableDefinition>> {
    const table = this.byName.get(name);
    if (table === undefined) return Promise.resolve({ ok: false, error: { code: "TableNotFound", message: `cannot drop table "${name}": it does not exist` } });
    this.byName.delete(name);
    return Promise.resolve({ ok: true, value: table });
  }
}
