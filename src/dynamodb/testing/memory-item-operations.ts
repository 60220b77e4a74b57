import type { Consistency, TableDefinition } from "../../catalog/table-definition.js";
import type {
  BatchItemWrite,
  BatchResult,
  DeleteResult,
  ItemChange,
  ItemKeyParts,
  ItemOperations,
  ItemRead,
  ItemVersion,
  ListPage,
  ListRequest,
  ModifyResult,
  PutResult,
  QueryRequest,
  ReadOptions,
  WriteOptions,
} from "../../coordinator/item-operations.js";
import type { ItemWrite } from "../../replica/item-write.js";
import { storeFailure, type StoreFailure, type StoreResult } from "../../replica/store-result.js";

/**
 * A test double for ItemOperations: one process, one Map per table, every operation atomic
 * (modify runs `change` once, synchronously), list and query in byte order of (partition key,
 * sort key). `failWith` makes the next calls of one kind fail, for the batch operations'
 * unprocessed paths. Unbounded by design: tests only.
 */
interface Entry {
  key: ItemKeyParts;
  version: ItemVersion;
}

export type OperationKind = "get" | "put" | "delete" | "modify" | "list" | "query" | "batch";

export class MemoryItemOperations implements ItemOperations {
  private readonly tables = new Map<number, Map<string, Entry>>();
  private counter = 0;
  private readonly failures: Array<{ kind: OperationKind; failure: StoreFailure; remaining: number }> = [];
  readonly calls: Record<OperationKind, number> = { get: 0, put: 0, delete: 0, modify: 0, list: 0, query: 0, batch: 0 };
  /** The consistency the last get, list and query asked for (every answer here is current). */
  readonly lastConsistency: { get?: Consistency | undefined; list?: Consistency | undefined; query?: Consistency | undefined } = {};

  /** The next `times` calls of `kind` fail with `failure`. */
  failWith(kind: OperationKind, failure: StoreFailure, times = 1): void {
    this.failures.push({ kind, failure, remaining: times });
  }

  /** How many items a table holds. */
  size(table: TableDefinition): number {
    return this.table(table).size;
  }

  get(table: TableDefinition, key: ItemKeyParts, options: ReadOptions): Promise<StoreResult<ItemRead>> {
    this.lastConsistency.get = options.consistency;
    return this.run("get", () => {
      const entry = this.table(table).get(mapKey(key));
      return { siblings: entry === undefined ? [] : [entry.version], context: "" };
    });
  }

  put(table: TableDefinition, key: ItemKeyParts, write: ItemWrite, options: WriteOptions): Promise<StoreResult<PutResult>> {
    const refused = this.checkCondition(table, key, options);
    if (refused !== undefined) return Promise.resolve(refused);
    return this.run("put", () => {
      const created = !this.table(table).has(mapKey(key));
      return { item: this.store(table, key, write), created, context: "" };
    });
  }

  delete(table: TableDefinition, key: ItemKeyParts, options: WriteOptions): Promise<StoreResult<DeleteResult>> {
    const refused = this.checkCondition(table, key, options);
    if (refused !== undefined) return Promise.resolve(refused);
    return this.run("delete", () => ({ existed: this.table(table).delete(mapKey(key)) }));
  }

  modify(table: TableDefinition, key: ItemKeyParts, change: ItemChange): Promise<StoreResult<ModifyResult>> {
    const failed = this.takeFailure("modify");
    if (failed !== undefined) return Promise.resolve({ ok: false, error: failed });
    const previous = this.table(table).get(mapKey(key))?.version;
    const decision = change(previous);
    if (decision.type === "abort") return Promise.resolve(storeFailure(decision.code, decision.message));
    if (decision.type === "delete") {
      this.table(table).delete(mapKey(key));
      return Promise.resolve({ ok: true, value: { item: undefined, previous } });
    }
    return Promise.resolve({ ok: true, value: { item: this.store(table, key, decision.write), previous } });
  }

  list(table: TableDefinition, request: ListRequest): Promise<StoreResult<ListPage>> {
    this.lastConsistency.list = request.consistency;
    return this.run("list", () => {
      const sorted = this.sorted(table).filter((e) => startsWith(e.key.partitionKey, request.prefix));
      const after = request.after;
      const rest = after === undefined ? sorted : sorted.filter((e) => compareKeys(e.key, after) > 0);
      return page(rest, request.limit);
    });
  }

  query(table: TableDefinition, request: QueryRequest): Promise<StoreResult<ListPage>> {
    this.lastConsistency.query = request.consistency;
    return this.run("query", () => {
      let entries = this.sorted(table).filter((e) => compareBytes(e.key.partitionKey, request.partitionKey) === 0);
      entries = entries.filter((e) => inBounds(e.key.sortKey ?? new Uint8Array(0), request));
      if (request.reverse) entries.reverse();
      const after = request.after;
      if (after !== undefined) {
        entries = entries.filter((e) => {
          const order = compareBytes(e.key.sortKey ?? new Uint8Array(0), after);
          return request.reverse ? order < 0 : order > 0;
        });
      }
      return page(entries, request.limit);
    });
  }

  batch(table: TableDefinition, gets: readonly ItemKeyParts[], writes: readonly BatchItemWrite[]): Promise<StoreResult<BatchResult>> {
    return this.run("batch", () => ({
      gets: gets.map((key) => {
        const entry = this.table(table).get(mapKey(key));
        return { siblings: entry === undefined ? [] : [entry.version], context: "" };
      }),
      writes: writes.map((w) =>
        w.type === "put" ? { type: "put" as const, item: this.store(table, w.key, w.write) } : { type: "delete" as const, existed: this.table(table).delete(mapKey(w.key)) },
      ),
    }));
  }

  /** If-Match / If-None-Match over the stored version, as the coordinators check them. */
  private checkCondition(table: TableDefinition, key: ItemKeyParts, options: WriteOptions): { ok: false; error: StoreFailure } | undefined {
    const current = this.table(table).get(mapKey(key))?.version;
    const { ifMatch, ifNoneMatch } = options.condition;
    if (ifMatch !== undefined && (current === undefined || (ifMatch !== "*" && !ifMatch.includes(current.version)))) return storeFailure("PreconditionFailed", "If-Match failed");
    if (ifNoneMatch !== undefined && current !== undefined && (ifNoneMatch === "*" || ifNoneMatch.includes(current.version))) return storeFailure("PreconditionFailed", "If-None-Match failed");
    return undefined;
  }

  private run<T>(kind: OperationKind, operation: () => T): Promise<StoreResult<T>> {
    this.calls[kind]++;
    const failed = this.takeFailure(kind);
    if (failed !== undefined) return Promise.resolve({ ok: false, error: failed });
    return Promise.resolve({ ok: true, value: operation() });
  }

  private takeFailure(kind: OperationKind): StoreFailure | undefined {
    const index = this.failures.findIndex((f) => f.kind === kind);
    if (index < 0) return undefined;
    const entry = this.failures[index]!;
    if (--entry.remaining === 0) this.failures.splice(index, 1);
    return entry.failure;
  }

  private table(table: TableDefinition): Map<string, Entry> {
    let map = this.tables.get(table.id);
    if (map === undefined) this.tables.set(table.id, (map = new Map()));
    return map;
  }

  private store(table: TableDefinition, key: ItemKeyParts, write: ItemWrite): ItemVersion {
    this.counter++;
    const version: ItemVersion = { value: write.value, contentType: write.contentType, metadata: write.metadata, version: `v${this.counter}`, timestamp: this.counter, expiresAtMs: write.expiresAtMs };
    this.table(table).set(mapKey(key), { key: { partitionKey: key.partitionKey.slice(), ...(key.sortKey !== undefined ? { sortKey: key.sortKey.slice() } : {}) }, version });
    return version;
  }

  private sorted(table: TableDefinition): Entry[] {
    return [...this.table(table).values()].sort((a, b) => compareKeys(a.key, b.key));
  }
}

function page(entries: Entry[], limit: number): ListPage {
  const items = entries.slice(0, limit).map((e) => ({ key: e.key, siblings: [e.version] }));
  const resumeAfter = entries.length > limit ? items[items.length - 1]!.key : null;
  return { items, resumeAfter };
}

function inBounds(sortKey: Uint8Array, request: QueryRequest): boolean {
  if (request.lower !== undefined) {
    const order = compareBytes(sortKey, request.lower.key);
    if (order < 0 || (order === 0 && !request.lower.inclusive)) return false;
  }
  if (request.upper !== undefined) {
    const order = compareBytes(sortKey, request.upper.key);
    if (order > 0 || (order === 0 && !request.upper.inclusive)) return false;
  }
  return request.sortKeyPrefix === undefined || startsWith(sortKey, request.sortKeyPrefix);
}

function mapKey(key: ItemKeyParts): string {
  return `${Buffer.from(key.partitionKey).toString("hex")}/${key.sortKey === undefined ? "" : Buffer.from(key.sortKey).toString("hex")}`;
}

function compareKeys(a: ItemKeyParts, b: ItemKeyParts): number {
  return compareBytes(a.partitionKey, b.partitionKey) || compareBytes(a.sortKey ?? new Uint8Array(0), b.sortKey ?? new Uint8Array(0));
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  return bytes.length >= prefix.length && compareBytes(bytes.subarray(0, prefix.length), prefix) === 0;
}
