import { assert } from "../../assert.js";
import type { CatalogFailure, CatalogResult } from "../../catalog/table-catalog.js";
import { defaultReplication, type TableDefinition, type TablePatch, type TableSpec } from "../../catalog/table-definition.js";
import type { DynamoTable, DynamoTableMetadata } from "./dynamo-table.js";

/**
 * The one adapter between the DynamoDB front door and the table catalog. The catalog holds the
 * Shoal table (its id prefixes every item key, its consistency picks the path) and replicates
 * it across the cluster; the DynamoDB metadata (key schema, billing mode, throughput, TTL)
 * rides in the definition's `extensions` under one key, so every node sees it and it survives
 * restarts. Shoal tables created through the native API have no such metadata and are
 * invisible here.
 *
 * Metadata changes (UpdateTable, UpdateTimeToLive) are read-modify-writes through the
 * catalog's `change`: atomic on one node, and across nodes the change whose settings lost to a
 * concurrent one is decided again on top of the winner (table-catalog.ts says when that can
 * still fail to notice), so an UpdateTable through one node and an UpdateTimeToLive through
 * another both land.
 */
export interface DynamoCatalog {
  get(name: string): TableDefinition | undefined;
  list(): TableDefinition[];
  create(spec: TableSpec): Promise<CatalogResult<TableDefinition>>;
  drop(name: string): Promise<CatalogResult<TableDefinition>>;
  update(name: string, patch: TablePatch): Promise<CatalogResult<TableDefinition>>;
  /** A read-modify-write of a live table's settings (TableCatalog.change). */
  change(name: string, decide: (current: TableDefinition) => TablePatch | CatalogFailure): Promise<CatalogResult<TableDefinition>>;
}

/**
 * `spreading`: the catalog kept the change here but not every up member acknowledged it yet
 * (CatalogUnavailable); catalog sync finishes it. DynamoDB's words for that state are
 * CREATING / UPDATING: the change is accepted and not yet visible everywhere.
 */
export type DirectoryResult = { ok: true; table: DynamoTable; spreading?: boolean } | { ok: false; code: CatalogFailure["code"]; message: string };

/** The extensions key the DynamoDB front door owns. */
export const extensionsKey = "dynamodb";

export interface TableDirectoryOptions {
  /** The consistency of new tables: strong (atomic conditional writes) unless a node cannot serve it yet. */
  consistency: "strong" | "eventual";
}

export class TableDirectory {
  /** The DynamoDB view of each catalog definition seen (definitions are replaced, never changed, on update). */
  private readonly views = new WeakMap<TableDefinition, DynamoTable | null>();

  constructor(
    private readonly catalog: DynamoCatalog,
    private readonly options: TableDirectoryOptions = { consistency: "strong" },
  ) {}

  get(name: string): DynamoTable | undefined {
    const definition = this.catalog.get(name);
    if (definition === undefined) return undefined;
    let view = this.views.get(definition);
    if (view === undefined) {
      const metadata = metadataOf(definition);
      view = metadata === undefined ? null : { definition, metadata };
      this.views.set(definition, view);
    }
    return view ?? undefined;
  }

  /** DynamoDB tables in name order (the catalog lists by name). */
  names(): string[] {
    return this.catalog
      .list()
      .filter((definition) => metadataOf(definition) !== undefined)
      .map((definition) => definition.name);
  }

  async create(name: string, metadata: DynamoTableMetadata): Promise<DirectoryResult> {
    const spec: TableSpec = {
      name,
      replication: { ...defaultReplication },
      consistency: this.options.consistency,
      conflicts: "lww",
      extensions: { [extensionsKey]: plain(metadata) },
    };
    return this.asDirectoryResult(name, await this.catalog.create(spec));
  }

  /** `change` may run more than once (after a concurrent change on another node): a pure function of its argument. */
  async update(name: string, change: (current: DynamoTableMetadata) => DynamoTableMetadata): Promise<DirectoryResult> {
    const notFound = { code: "TableNotFound", message: `table ${name} does not exist` } as const;
    if (this.get(name) === undefined) return { ok: false, ...notFound };
    const result = await this.catalog.change(name, (definition) => {
      const metadata = metadataOf(definition);
      if (metadata === undefined) return notFound;
      return { extensions: { ...definition.extensions, [extensionsKey]: plain(change(metadata)) } };
    });
    return this.asDirectoryResult(name, result);
  }

  async drop(name: string): Promise<DirectoryResult> {
    const table = this.get(name);
    if (table === undefined) return { ok: false, code: "TableNotFound", message: `table ${name} does not exist` };
    const dropped = await this.catalog.drop(name);
    if (!dropped.ok && dropped.error.code !== "CatalogUnavailable") return { ok: false, code: dropped.error.code, message: dropped.error.message };
    return { ok: true, table, ...(dropped.ok ? {} : { spreading: true }) };
  }

  private asDirectoryResult(name: string, result: CatalogResult<TableDefinition>): DirectoryResult {
    if (!result.ok) {
      // CatalogUnavailable without missing members: the change lost to concurrent ones every time; not kept.
      const kept = result.error.code === "CatalogUnavailable" && result.error.missing.length > 0 ? this.get(name) : undefined;
      if (kept !== undefined) return { ok: true, table: kept, spreading: true };
      return { ok: false, code: result.error.code, message: result.error.message };
    }
    const metadata = metadataOf(result.value);
    assert(metadata !== undefined, "a table the directory wrote carries its DynamoDB metadata");
    return { ok: true, table: { definition: result.value, metadata } };
  }
}

function metadataOf(definition: TableDefinition): DynamoTableMetadata | undefined {
  const value = definition.extensions?.[extensionsKey];
  if (value === undefined) return undefined;
  const metadata = value as DynamoTableMetadata;
  assert(typeof metadata.keySchema?.partitionKey?.name === "string", `table "${definition.name}": DynamoDB metadata without a key schema`);
  return metadata;
}

/** Plain JSON data only (no undefined members), as the catalog's extensions require. */
function plain(metadata: DynamoTableMetadata): Record<string, unknown> {
  return JSON.parse(JSON.stringify(metadata)) as Record<string, unknown>;
}
