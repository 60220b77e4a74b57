import type { TableDefinition } from "../catalog/table-definition.js";
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
  ReadOptions,
  WriteOptions,
} from "../coordinator/item-operations.js";
import type { ItemWrite, WriteCondition } from "../replica/item-write.js";
import { storeFailure, type StoreFailure, type StoreFailureCode, type StoreResult } from "../replica/store-result.js";
import { hlcFrom } from "../versioning/hybrid-logical-clock.js";

/**
 * An in-memory ItemOperations for tests of the front door: no replicas, no storage, but the
 * semantics the REST surface must render. Siblings work like dotted version vectors reduced to
 * one counter per key: every write takes the next sequence number (its dot); the context of a
 * read is "c.<highest sequence seen>"; a write carrying context c.N replaces exactly the
 * siblings with sequence <= N, and a write without one on a siblings table adds a sibling.
 * Strong and last-writer-wins tables keep one version. Deletes leave the counter behind, so a
 * read after a delete still answers a context (the tombstone was seen).
 *
 * Tests steer it: `failNext(op, code)` makes the next call of an operation fail with that
 * StoreFailure; `staleMaxMs` is answered on eventual reads of strong tables; `calls` records
 * what the handlers passed (bounded by callsMax, oldest dropped).
 */
export type FakeOperation = "get" | "put" | "delete" | "modify" | "list" | "batch";

export interface FakeCall {
  op: FakeOperation;
  key?: ItemKeyParts;
  read?: ReadOptions;
  write?: WriteOptions;
}

interface Sibling {
  seq: number;
  version: ItemVersion;
}

interface Entry {
  table: string;
  key: ItemKeyParts;
  seq: number;
  siblings: Sibling[];
}

const callsMax = 1000;
const contextPattern = /^c\.([0-9]{1,15})$/;

export class FakeItemOperations implements ItemOperations {
  readonly calls: FakeCall[] = [];
  staleMaxMs: number | undefined = undefined;
  private readonly entries = new Map<string, Entry>();
  private readonly failures = new Map<FakeOperation, StoreFailure>();

  constructor(private readonly options: { siblingsMax: number; nowMs: () => number }) {}

  failNext(op: FakeOperation, code: StoreFailureCode, message = `the fake was told to fail with ${code}`): void {
    this.failures.set(op, { code, message });
  }

  get(table: TableDefinition, key: ItemKeyParts, options: ReadOptions): Promise<StoreResult<ItemRead>> {
    this.record({ op: "get", key, read: options });
    const failure = this.takeFailure("get");
    if (failure !== undefined) return Promise.resolve(failure);
    if (table.consistency === "eventual" && options.consistency === "strong") {
      return Promise.resolve(storeFailure("BadRequest", `table "${table.name}" is eventual; consistency=strong needs a strong table`));
    }
    const read = this.read(table, key);
    if (table.consistency === "strong" && options.consistency === "eventual" && this.staleMaxMs !== undefined) read.staleMaxMs = this.staleMaxMs;
    return Promise.resolve({ ok: true, value: read });
  }

  put(table: TableDefinition, key: ItemKeyParts, write: ItemWrite, options: WriteOptions): Promise<StoreResult<PutResult>> {
    this.record({ op: "put", key, write: options });
    const failure = this.takeFailure("put") ?? this.refusal(table, key, options);
    if (failure !== undefined) return Promise.resolve(failure);
    const entry = this.entry(table, key);
    const created = entry.siblings.length === 0;
    const replaced = this.replacedUpTo(table, options.context);
    const kept = entry.siblings.filter((s) => s.seq > replaced);
    if (kept.length + 1 > this.options.siblingsMax) {
      return Promise.resolve(storeFailure("TooManySiblings", `${kept.length + 1} siblings; the limit is ${this.options.siblingsMax}`));
    }
    const item = this.store(entry, kept, write);
    return Promise.resolve({ ok: true, value: { item, created, context: contextOf(entry) } });
  }

  delete(table: TableDefinition, key: ItemKeyParts, options: WriteOptions): Promise<StoreResult<DeleteResult>> {
    this.record({ op: "delete", key, write: options });
    const failure = this.takeFailure("delete") ?? this.refusal(table, key, options);
    if (failure !== undefined) return Promise.resolve(failure);
    const entry = this.entry(table, key);
    const existed = entry.siblings.length > 0;
    const replaced = options.context === undefined ? entry.seq : this.replacedUpTo(table, options.context);
    entry.seq++;
    entry.siblings = entry.siblings.filter((s) => s.seq > replaced);
    return Promise.resolve({ ok: true, value: { existed } });
  }

  modify(table: TableDefinition, key: ItemKeyParts, change: ItemChange): Promise<StoreResult<ModifyResult>> {
    this.record({ op: "modify", key });
    const failure = this.takeFailure("modify");
    if (failure !== undefined) return Promise.resolve(failure);
    if (table.consistency !== "strong") {
      return Promise.resolve(storeFailure("BadRequest", `table "${table.name}" is eventual; read-modify-write needs a strong table`));
    }
    const entry = this.entry(table, key);
    const previous = entry.siblings[0]?.version;
    const decision = change(previous);
    if (decision.type === "abort") return Promise.resolve(storeFailure(decision.code, decision.message));
    if (decision.type === "delete") {
      entry.seq++;
      entry.siblings = [];
      return Promise.resolve({ ok: true, value: { item: undefined, previous } });
    }
    return Promise.resolve({ ok: true, value: { item: this.store(entry, [], decision.write), previous } });
  }

  list(table: TableDefinition, request: ListRequest): Promise<StoreResult<ListPage>> {
    this.record({ op: "list" });
    const failure = this.takeFailure("list");
    if (failure !== undefined) return Promise.resolve(failure);
    if (table.consistency === "eventual" && request.consistency === "strong") {
      return Promise.resolve(storeFailure("BadRequest", `table "${table.name}" is eventual; consistency=strong needs a strong table`));
    }
    const live = [...this.entries.values()]
      .filter((e) => e.table === table.name && e.siblings.length > 0 && startsWith(e.key.partitionKey, request.prefix))
      .sort((a, b) => compareKeys(a.key, b.key))
      .filter((e) => request.after === undefined || compareKeys(e.key, request.after) > 0);
    const page = live.slice(0, request.limit);
    const items = page.map((e) => ({ key: e.key, siblings: e.siblings.map((s) => s.version) }));
    const resumeAfter = live.length > page.length ? page.at(-1)!.key : null;
    return Promise.resolve({ ok: true, value: { items, resumeAfter } });
  }

  query(table: TableDefinition): Promise<StoreResult<ListPage>> {
    return Promise.resolve(storeFailure("BadRequest", `the fake does not query table "${table.name}"`));
  }

  batch(table: TableDefinition, gets: readonly ItemKeyParts[], writes: readonly BatchItemWrite[]): Promise<StoreResult<BatchResult>> {
    this.record({ op: "batch" });
    const failure = this.takeFailure("batch");
    if (failure !== undefined) return Promise.resolve(failure);
    const result: BatchResult = { gets: gets.map((key) => this.read(table, key)), writes: [] };
    for (const write of writes) {
      const entry = this.entry(table, write.key);
      if (write.type === "put") {
        const kept = table.conflicts === "siblings" && table.consistency === "eventual" ? entry.siblings : [];
        result.writes.push({ type: "put", item: this.store(entry, kept, write.write) });
      } else {
        result.writes.push({ type: "delete", existed: entry.siblings.length > 0 });
        entry.seq++;
        entry.siblings = [];
      }
    }
    return Promise.resolve({ ok: true, value: result });
  }

  /** Writes siblings straight in (several concurrent writers, as a partition would leave them). */
  seedSiblings(table: TableDefinition, key: ItemKeyParts, writes: readonly ItemWrite[]): void {
    const entry = this.entry(table, key);
    for (const write of writes) this.store(entry, entry.siblings, write);
  }

  private read(table: TableDefinition, key: ItemKeyParts): ItemRead {
    const entry = this.entries.get(entryKey(table, key));
    if (entry === undefined) return { siblings: [], context: "" };
    return { siblings: entry.siblings.map((s) => s.version), context: contextOf(entry) };
  }

  private store(entry: Entry, kept: Sibling[], write: ItemWrite): ItemVersion {
    entry.seq++;
    const version: ItemVersion = {
      value: write.value,
      contentType: write.contentType,
      metadata: write.metadata,
      version: `v${entry.seq}`,
      timestamp: hlcFrom(this.options.nowMs(), 0),
      expiresAtMs: write.expiresAtMs,
    };
    entry.siblings = [...kept, { seq: entry.seq, version }];
    return version;
  }

  /** The highest sequence a write replaces: its context's on siblings tables, everything elsewhere. */
  private replacedUpTo(table: TableDefinition, context: string | undefined): number {
    if (table.consistency === "strong" || table.conflicts === "lww") return Number.MAX_SAFE_INTEGER;
    if (context === undefined) return 0;
    return Number(contextPattern.exec(context)![1]);
  }

  private refusal(table: TableDefinition, key: ItemKeyParts, options: WriteOptions): { ok: false; error: StoreFailure } | undefined {
    if (options.context !== undefined && !contextPattern.test(options.context)) return storeFailure("BadRequest", "the context is not one this cluster issued");
    const live = this.read(table, key).siblings;
    const unmet = unmetCondition(options.condition, live);
    return unmet === undefined ? undefined : storeFailure("PreconditionFailed", unmet);
  }

  private entry(table: TableDefinition, key: ItemKeyParts): Entry {
    const id = entryKey(table, key);
    let entry = this.entries.get(id);
    if (entry === undefined) {
      entry = { table: table.name, key, seq: 0, siblings: [] };
      this.entries.set(id, entry);
    }
    return entry;
  }

  private takeFailure(op: FakeOperation): { ok: false; error: StoreFailure } | undefined {
    const failure = this.failures.get(op);
    if (failure === undefined) return undefined;
    this.failures.delete(op);
    return { ok: false, error: failure };
  }

  private record(call: FakeCall): void {
    if (this.calls.length >= callsMax) this.calls.shift();
    this.calls.push(call);
  }
}

function contextOf(entry: Entry): string {
  return entry.seq === 0 ? "" : `c.${entry.seq}`;
}

function unmetCondition(condition: WriteCondition, live: readonly ItemVersion[]): string | undefined {
  const versions = live.map((v) => v.version);
  const { ifMatch, ifNoneMatch } = condition;
  if (ifMatch !== undefined && (versions.length === 0 || (ifMatch !== "*" && !versions.some((v) => ifMatch.includes(v))))) return "If-Match failed";
  if (ifNoneMatch !== undefined && versions.length > 0 && (ifNoneMatch === "*" || versions.some((v) => ifNoneMatch.includes(v)))) return "If-None-Match failed";
  return undefined;
}

function entryKey(table: TableDefinition, key: ItemKeyParts): string {
  const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
  return `${table.name}/${hex(key.partitionKey)}/${key.sortKey === undefined ? "" : hex(key.sortKey)}`;
}

function compareKeys(a: ItemKeyParts, b: ItemKeyParts): number {
  const byPartition = Buffer.compare(a.partitionKey, b.partitionKey);
  if (byPartition !== 0) return byPartition;
  return Buffer.compare(a.sortKey ?? new Uint8Array(0), b.sortKey ?? new Uint8Array(0));
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  return prefix.length <= bytes.length && Buffer.compare(bytes.subarray(0, prefix.length), prefix) === 0;
}
