import type { TableDefinition } from "../catalog/table-definition.js";
import type {
  DeleteResult,
  ItemKeyParts,
  ItemOperations,
  ItemRead,
  ItemVersion,
  ListPage,
  ListRequest,
  PutResult,
  WriteOptions,
} from "../coordinator/item-operations.js";
import type { ItemWrite } from "../replica/item-write.js";
import { storeFailure, type StoreResult } from "../replica/store-result.js";
import { hlcFrom } from "../versioning/hybrid-logical-clock.js";

/**
 * Test double: a small in-memory ItemOperations with the causal-context behaviour the client
 * protocol relies on, nothing more. A write without a context becomes a sibling; a write with one
 * replaces exactly the versions the context names (here simply their names, comma-joined); a
 * delete removes them. `gate` lets a test hold every operation (a node that stops answering),
 * and `calls` records what was asked, so a test can see which node served a request.
 */
export class TestItemOperations implements ItemOperations {
  readonly calls: Array<{ op: string; table: string; key?: string }> = [];
  /** While set, every operation waits for it before running. */
  gate: Promise<void> | undefined;
  /** Thrown by the next operation, once (a coordinator bug or an edge check). */
  throwNext: Error | undefined;
  private readonly items = new Map<string, { key: ItemKeyParts; siblings: ItemVersion[] }>();
  private versions = 0;

  async get(table: TableDefinition, key: ItemKeyParts): Promise<StoreResult<ItemRead>> {
    await this.enter("get", table, key);
    const siblings = this.items.get(storeKey(table, key))?.siblings ?? [];
    return { ok: true, value: { siblings: [...siblings], context: contextOf(siblings) } };
  }

  async put(table: TableDefinition, key: ItemKeyParts, write: ItemWrite, options: WriteOptions): Promise<StoreResult<PutResult>> {
    await this.enter("put", table, key);
    const entry = this.items.get(storeKey(table, key)) ?? { key, siblings: [] };
    const failure = conditionFailure(entry.siblings, options);
    if (failure !== undefined) return failure;
    const seen = new Set(options.context?.split(",") ?? []);
    const item: ItemVersion = { ...write, version: `v${++this.versions}`, timestamp: hlcFrom(1_700_000_000_000 + this.versions, 0) };
    const siblings = [...entry.siblings.filter((s) => !seen.has(s.version)), item];
    this.items.set(storeKey(table, key), { key, siblings });
    return { ok: true, value: { item, created: entry.siblings.length === 0, context: contextOf(siblings) } };
  }

  async delete(table: TableDefinition, key: ItemKeyParts, options: WriteOptions): Promise<StoreResult<DeleteResult>> {
    await this.enter("delete", table, key);
    const entry = this.items.get(storeKey(table, key));
    if (entry === undefined) return { ok: true, value: { existed: false } };
    const failure = conditionFailure(entry.siblings, options);
    if (failure !== undefined) return failure;
    const seen = new Set(options.context?.split(",") ?? entry.siblings.map((s) => s.version));
    const siblings = entry.siblings.filter((s) => !seen.has(s.version));
    if (siblings.length === 0) this.items.delete(storeKey(table, key));
    else this.items.set(storeKey(table, key), { key, siblings });
    return { ok: true, value: { existed: true } };
  }

  async list(table: TableDefinition, request: ListRequest): Promise<StoreResult<ListPage>> {
    await this.enter("list", table);
    const prefix = Buffer.from(request.prefix).toString("hex");
    const after = request.after === undefined ? undefined : storeKey(table, request.after);
    const keys = [...this.items.keys()]
      .filter((k) => k.startsWith(`${table.id}/${prefix}`) && (after === undefined || k > after))
      .sort();
    const page = keys.slice(0, request.limit).map((k) => ({ key: this.items.get(k)!.key, siblings: [...this.items.get(k)!.siblings] }));
    const more = keys.length > request.limit;
    return { ok: true, value: { items: page, resumeAfter: more ? page[page.length - 1]!.key : null } };
  }

  modify(): Promise<never> {
    return Promise.reject(new Error("TestItemOperations.modify is not implemented"));
  }

  query(): Promise<never> {
    return Promise.reject(new Error("TestItemOperations.query is not implemented"));
  }

  batch(): Promise<never> {
    return Promise.reject(new Error("TestItemOperations.batch is not implemented"));
  }

  private async enter(op: string, table: TableDefinition, key?: ItemKeyParts): Promise<void> {
    this.calls.push({ op, table: table.name, ...(key !== undefined ? { key: Buffer.from(key.partitionKey).toString() } : {}) });
    if (this.gate !== undefined) await this.gate;
    const thrown = this.throwNext;
    this.throwNext = undefined;
    if (thrown !== undefined) throw thrown;
  }
}

/** Hex keeps the byte order, so sorting the map keys sorts items by partition key, then sort key. */
function storeKey(table: TableDefinition, key: ItemKeyParts): string {
  const sort = key.sortKey === undefined ? "" : Buffer.from(key.sortKey).toString("hex");
  return `${table.id}/${Buffer.from(key.partitionKey).toString("hex")}/${sort}`;
}

function contextOf(siblings: readonly ItemVersion[]): string {
  return siblings.map((s) => s.version).join(",");
}

function conditionFailure(siblings: readonly ItemVersion[], options: WriteOptions): { ok: false; error: { code: "PreconditionFailed"; message: string } } | undefined {
  const { ifNoneMatch, ifMatch } = options.condition;
  if (ifNoneMatch === "*" && siblings.length > 0) return storeFailure("PreconditionFailed", "the item exists") as { ok: false; error: { code: "PreconditionFailed"; message: string } };
  if (ifMatch !== undefined && ifMatch !== "*" && !siblings.some((s) => ifMatch.includes(s.version))) {
    return storeFailure("PreconditionFailed", "no listed version is current") as { ok: false; error: { code: "PreconditionFailed"; message: string } };
  }
  return undefined;
}
