import type { CatalogFailure, CatalogResult } from "../../catalog/table-catalog.js";
import { defaultReplication, type TableDefinition, type TableSpec } from "../../catalog/table-definition.js";
import type { DynamoTable, DynamoTableMetadata } from "./dynamo-table.js";

/**
 * The one adapter between the DynamoDB front door and the table catalog. The catalog holds the
 * Shoal table (its id prefixes every item key, its consistency picks the path); the DynamoDB
 * metadata (key schema, billing mode, throughput, TTL) sits beside it, keyed by table id so a
 * table dropped and created again under the same name never inherits the old schema.
 *
 * Until the catalog carries `extensions` on table definitions, the metadata lives in this
 * process's memory: it does not survive a restart and other nodes do not see it. Moving it into
 * the catalog changes only this file. Shoal tables created through the native API have no
 * metadata and are invisible here.
 */
export interface DynamoCatalog {
  get(name: string): TableDefinition | undefined;
  list(): TableDefinition[];
  create(spec: TableSpec): Promise<CatalogResult<TableDefinition>>;
  drop(name: string): Promise<CatalogResult<TableDefinition>>;
}

export type DirectoryResult = { ok: true; table: DynamoTable } | { ok: false; code: CatalogFailure["code"]; message: string };

export class TableDirectory {
  private readonly metadataById = new Map<number, DynamoTableMetadata>();

  constructor(private readonly catalog: DynamoCatalog) {}

  get(name: string): DynamoTable | undefined {
    const definition = this.catalog.get(name);
    if (definition === undefined) return undefined;
    const metadata = this.metadataById.get(definition.id);
    return metadata === undefined ? undefined : { definition, metadata };
  }

  /** DynamoDB tables in name order (the catalog lists by name). */
  names(): string[] {
    return this.catalog
      .list()
      .filter((definition) => this.metadataById.has(definition.id))
      .map((definition) => definition.name);
  }

  /** A DynamoDB table is a strong Shoal table (conditional writes and UpdateItem are atomic). */
  async create(name: string, metadata: DynamoTableMetadata): Promise<DirectoryResult> {
    const created = await this.catalog.create({ name, replication: { ...defaultReplication }, consistency: "strong", conflicts: "lww" });
    if (!created.ok) return { ok: false, code: created.error.code, message: created.error.message };
    this.metadataById.set(created.value.id, metadata);
    return { ok: true, table: { definition: created.value, metadata } };
  }

  update(name: string, change: (current: DynamoTableMetadata) => DynamoTableMetadata): DirectoryResult {
    const table = this.get(name);
    if (table === undefined) return { ok: false, code: "TableNotFound", message: `table ${name} does not exist` };
    const metadata = change(table.metadata);
    this.metadataById.set(table.definition.id, metadata);
    return { ok: true, table: { definition: table.definition, metadata } };
  }

  async drop(name: string): Promise<DirectoryResult> {
    const table = this.get(name);
    if (table === undefined) return { ok: false, code: "TableNotFound", message: `table ${name} does not exist` };
    const dropped = await this.catalog.drop(name);
    if (!dropped.ok) return { ok: false, code: dropped.error.code, message: dropped.error.message };
    this.metadataById.delete(table.definition.id);
    return { ok: true, table };
  }
}
