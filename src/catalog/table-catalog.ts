import { pack, unpack } from "msgpackr";
import { assert } from "../assert.js";
import type { NodeId } from "../runtime/network.js";
import type { Runtime } from "../runtime/runtime.js";
import type { WriteOp } from "../storage/storage-engine.js";
import { Namespace, catalogKey, metaKey, namespacePrefix } from "../storage/keyspace.js";
import type { CatalogPublisher } from "./catalog-publisher.js";
import { compareStamps, highestStamp, liveIncarnation, type CatalogStamp, type NameRecord, type TableIncarnation } from "./catalog-record.js";
import { CatalogState, type AppliedChange } from "./catalog-state.js";
import { settleNameRecord } from "./merge-name-record.js";
import { legacyNameRecord, parseNameRecord, type NameRecordBounds } from "./parse-name-record.js";
import type { TableDefinition, TablePatch, TableSpec } from "./table-definition.js";
import { checkTableExtensions, copyTableExtensions } from "./table-extensions.js";
import { freshTableId } from "./table-id.js";

/**
 * Table definitions, replicated to every node (issue 3: "any node accepts any request"). Each
 * name has a versioned record (catalog-record.ts) kept in the key space under the name's catalog
 * key and in memory, so a lookup on the item path is one Map read. A create, update or drop is
 * stamped with the hybrid logical clock, merged locally, persisted, then pushed to every up
 * member through the attached publisher (CatalogSync); it answers once all acknowledged, or
 * with CatalogUnavailable naming who did not. The change is kept either way: the background
 * catalog sync finishes spreading it, so nothing is left half-done.
 *
 * Dropped (dead) incarnations keep their ids in the records, so an id is never used twice; the
 * ids whose items may still be in storage wait in the persisted drop list until `TablePurger`
 * (replica/) has removed the items and calls `forgetDropped`.
 */
export type CatalogFailure =
  | { code: "TableExists"; message: string }
  | { code: "TableNotFound"; message: string }
  | { code: "TooManyTables"; message: string }
  | { code: "InvalidTableOptions"; message: string }
  | { code: "CatalogUnavailable"; message: string; missing: NodeId[] };

export type CatalogResult<T> = { ok: true; value: T } | { ok: false; error: CatalogFailure };

export interface TableCatalogOptions {
  /** Live tables. */
  tablesMax: number;
  durableWrites: boolean;
  /** Live and dead incarnations together (every table id ever used); default tablesMax * 16. */
  incarnationsMax?: number;
  /** Bytes of one table's extensions as JSON; default 16 KiB. */
  extensionsBytesMax?: number;
  /** Longest table name a peer's record may carry; default 1024. */
  nameLengthMax?: number;
}

/** The single-node catalog's id counter: ids below it may have been used, so they stay taken. */
const legacyNextTableIdKey = metaKey("catalog.nextTableId");
export const droppedTablesKey = metaKey("catalog.droppedTables");
const incarnationsPerTable = 16;
const extensionsBytesDefault = 16 * 1024;
const nameLengthDefault = 1024;
/** Runs of one `change` whose settings lost to a concurrent change before it gives up. */
export const changeAttemptsMax = 4;

export class TableCatalog {
  private readonly state = new CatalogState();
  /** Tail of each name's queue of local changes: one change of a name at a time. */
  private readonly nameQueues = new Map<string, Promise<unknown>>();
  private readonly droppedListeners: Array<(ids: readonly number[]) => void> = [];
  private publisher: CatalogPublisher | undefined;

  private constructor(
    private readonly runtime: Runtime,
    private readonly options: TableCatalogOptions,
    readonly bounds: NameRecordBounds,
    private readonly legacyIdFloor: number,
    private droppedTableIds: number[],
  ) {}

  /** Loads every record; records are bounded by incarnationsMax, so one scan is bounded too. */
  static open(runtime: Runtime, options: TableCatalogOptions): TableCatalog {
    const bounds: NameRecordBounds = {
      incarnationsMax: options.incarnationsMax ?? options.tablesMax * incarnationsPerTable,
      extensionsBytesMax: options.extensionsBytesMax ?? extensionsBytesDefault,
      nameLengthMax: options.nameLengthMax ?? nameLengthDefault,
    };
    const counter = runtime.storage.get(legacyNextTableIdKey);
    const catalog = new TableCatalog(runtime, options, bounds, counter === undefined ? 0 : (unpack(counter) as number), readDroppedTableIds(runtime));
    catalog.load();
    return catalog;
  }

  get(name: string): TableDefinition | undefined {
    return this.state.definition(name);
  }

  /**
   * Whether a table id is live. Writes check it (synchronously, right before they reach
   * storage), so a write that looked its table up before a drop cannot land after the purge.
   */
  isLive(tableId: number): boolean {
    return this.state.isLive(tableId);
  }

  /**
   * Whether a table id belonged to a table that was dropped (or lost a concurrent create). Ids
   * are never reused, so this stays true after the purge has forgotten the id; an id this node
   * has not heard of yet is neither live nor dropped. One Map and one Set read.
   */
  isDropped(tableId: number): boolean {
    return this.state.isIdSeen(tableId) && !this.state.isLive(tableId);
  }

  list(): TableDefinition[] {
    return this.state.definitions().sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Ids of dropped tables whose items may still be in storage. */
  droppedIds(): readonly number[] {
    return this.droppedTableIds;
  }

  /** Called by the purger once every item of a dropped table is gone. */
  async forgetDropped(tableId: number): Promise<void> {
    this.droppedTableIds = this.droppedTableIds.filter((id) => id !== tableId);
    await this.write([dropListOp(this.droppedTableIds)]);
  }

  /** Tables died here, by a local drop or one learned from a peer: kick the purger. */
  onDropped(listener: (ids: readonly number[]) => void): void {
    this.droppedListeners.push(listener);
  }

  /** Where local changes are pushed before they answer; undefined on a node without peers. */
  attach(publisher: CatalogPublisher | undefined): void {
    this.publisher = publisher;
  }

  create(spec: TableSpec): Promise<CatalogResult<TableDefinition>> {
    return this.serialize(spec.name, () => this.createNow(spec));
  }

  /** Drops the live table of `name`: its items become unreachable at once, then get purged. */
  drop(name: string): Promise<CatalogResult<TableDefinition>> {
    return this.serialize(name, () => this.dropNow(name));
  }

  /** Changes replication and/or extensions of a live table (last writer wins per table). */
  update(name: string, patch: TablePatch): Promise<CatalogResult<TableDefinition>> {
    return this.serialize(name, () => this.updateNow(name, patch));
  }

  /**
   * A read-modify-write of a live table's settings: `decide` sees the current definition and
   * returns the patch (or a failure to answer with, changing nothing). Atomic on this node (one
   * change of a name at a time). Across nodes the catalog is last-writer-wins, so after the
   * publish this checks that its settings won: the publish's replies carry what the others hold,
   * so when two nodes change one table at once the one whose stamp lost sees the winner and
   * runs `decide` again on top of it (at most `changeAttemptsMax` times), and neither change is
   * lost. It can still be lost when the two writers cannot reach each other and a third node
   * orders them: both see their own change win in their replies (documented limit).
   */
  change(name: string, decide: (current: TableDefinition) => TablePatch | CatalogFailure): Promise<CatalogResult<TableDefinition>> {
    return this.serialize(name, () => this.changeNow(name, decide));
  }

  /** The stored record of a name, live or not (for sync and tests). */
  record(name: string): NameRecord | undefined {
    return this.state.record(name);
  }

  digestBuckets(): number[] {
    return this.state.digest.buckets();
  }

  differingBuckets(other: readonly number[]): number[] {
    return this.state.digest.differing(other);
  }

  recordsInBuckets(buckets: readonly number[], bytesMax: number): NameRecord[] {
    return this.state.recordsInBuckets(buckets, bytesMax);
  }

  /** Merges records from a peer (already parsed) and persists what changed; returns the merged records. */
  async merge(records: readonly NameRecord[]): Promise<NameRecord[]> {
    const changes = records.map((record) => this.state.apply(record));
    await this.persist(changes);
    return changes.map((change) => change.record);
  }

  private async createNow(spec: TableSpec): Promise<CatalogResult<TableDefinition>> {
    const refused = this.refuseCreate(spec);
    if (refused !== undefined) return { ok: false, error: refused };
    const before = this.state.record(spec.name);
    const created = this.nextStamp(before);
    const id = freshTableId(created, (candidate) => this.isIdTaken(candidate));
    assert(id !== undefined, `no free table id for "${spec.name}" after every attempt`);
    const incarnation: TableIncarnation = {
      id,
      created,
      createdAtMs: this.runtime.clock.nowMs(),
      consistency: spec.consistency,
      conflicts: spec.conflicts,
      settings: { stamp: created, replication: { ...spec.replication }, ...(spec.extensions !== undefined ? { extensions: copyTableExtensions(spec.extensions) } : {}) },
      dead: false,
    };
    const incarnations = [...(before?.incarnations ?? []), incarnation].sort((a, b) => a.id - b.id);
    await this.changeLocally(settleNameRecord({ name: spec.name, dropFloor: before?.dropFloor ?? null, incarnations }));
    const missing = await this.publishName(spec.name);
    const live = this.state.definition(spec.name);
    if (live?.id !== id) return { ok: false, error: this.lostCreate(spec.name) };
    if (missing.length > 0) return { ok: false, error: unavailable(`create table "${spec.name}"`, missing) };
    return { ok: true, value: live };
  }

  private async dropNow(name: string): Promise<CatalogResult<TableDefinition>> {
    const table = this.state.definition(name);
    const before = this.state.record(name);
    if (table === undefined || before === undefined) {
      return { ok: false, error: { code: "TableNotFound", message: `cannot drop table "${name}": it does not exist` } };
    }
    await this.changeLocally(settleNameRecord({ ...before, dropFloor: this.nextStamp(before) }));
    const missing = await this.publishName(name);
    if (missing.length > 0) return { ok: false, error: unavailable(`drop table "${name}"`, missing) };
    return { ok: true, value: table };
  }

  private async updateNow(name: string, patch: TablePatch, stamped?: (stamp: CatalogStamp) => void): Promise<CatalogResult<TableDefinition>> {
    const before = this.state.record(name);
    const live = before === undefined ? undefined : liveIncarnation(before);
    if (before === undefined || live === undefined) {
      return { ok: false, error: { code: "TableNotFound", message: `cannot update table "${name}": it does not exist` } };
    }
    const invalid = patch.extensions === undefined ? undefined : this.checkExtensions(`update table "${name}"`, patch.extensions);
    if (invalid !== undefined) return { ok: false, error: invalid };
    const extensions = patch.extensions !== undefined ? copyTableExtensions(patch.extensions) : live.settings.extensions;
    const settings = { stamp: this.nextStamp(before), replication: { ...(patch.replication ?? live.settings.replication) }, ...(extensions !== undefined ? { extensions } : {}) };
    const incarnations = before.incarnations.map((i) => (i.id === live.id ? { ...i, settings } : i));
    stamped?.(settings.stamp);
    await this.changeLocally({ ...before, incarnations });
    const missing = await this.publishName(name);
    const after = this.state.definition(name);
    if (after?.id !== live.id) return { ok: false, error: { code: "TableNotFound", message: `cannot update table "${name}": a concurrent drop removed it` } };
    if (missing.length > 0) return { ok: false, error: unavailable(`update table "${name}"`, missing) };
    return { ok: true, value: after };
  }

  private async changeNow(name: string, decide: (current: TableDefinition) => TablePatch | CatalogFailure): Promise<CatalogResult<TableDefinition>> {
    for (let attempt = 1; ; attempt++) {
      const current = this.state.definition(name);
      if (current === undefined) return { ok: false, error: { code: "TableNotFound", message: `cannot update table "${name}": it does not exist` } };
      const decided = decide(current);
      if ("code" in decided) return { ok: false, error: decided };
      // What we want is already in effect (a concurrent change did the same, or an earlier
      // attempt of ours won on one node and lost only its stamp): done, nothing to write.
      // Without this two nodes deciding again on top of each other can trade stamps until
      // changeAttemptsMax and answer failure for a change that landed.
      if (patchChangesNothing(current, decided)) return { ok: true, value: current };
      let ours: CatalogStamp | undefined;
      const updated = await this.updateNow(name, decided, (stamp) => (ours = stamp));
      if (!updated.ok && updated.error.code !== "CatalogUnavailable") return updated;
      const record = this.state.record(name);
      const live = record === undefined ? undefined : liveIncarnation(record);
      if (live?.id !== current.id) return { ok: false, error: { code: "TableNotFound", message: `cannot update table "${name}": a concurrent drop removed it` } };
      if (ours !== undefined && compareStamps(live.settings.stamp, ours) === 0) return updated;
      // Another node's settings won over ours (a concurrent change): decide again on top of them.
      if (attempt >= changeAttemptsMax) {
        const message = `cannot update table "${name}": other nodes changed it concurrently ${attempt} times in a row; retry`;
        return { ok: false, error: { code: "CatalogUnavailable", message, missing: [] } };
      }
    }
  }

  /** Every id a record holds, the purge queue's (the single-node catalog forgot those), and the old counter's range. */
  private isIdTaken(id: number): boolean {
    return id < this.legacyIdFloor || this.state.isIdSeen(id) || this.droppedTableIds.includes(id);
  }

  private refuseCreate(spec: TableSpec): CatalogFailure | undefined {
    const invalid = spec.extensions === undefined ? undefined : this.checkExtensions(`create table "${spec.name}"`, spec.extensions);
    if (invalid !== undefined) return invalid;
    if (this.state.definition(spec.name) !== undefined) return { code: "TableExists", message: `cannot create table "${spec.name}": it exists` };
    if (this.state.liveCount >= this.options.tablesMax) {
      return { code: "TooManyTables", message: `cannot create table "${spec.name}": ${this.state.liveCount} tables exist; the limit is ${this.options.tablesMax}` };
    }
    if (this.state.incarnationCount >= this.bounds.incarnationsMax) {
      const message = `cannot create table "${spec.name}": ${this.state.incarnationCount} tables were created over the cluster's life; the limit is ${this.bounds.incarnationsMax}`;
      return { code: "TooManyTables", message };
    }
    return undefined;
  }

  private checkExtensions(action: string, extensions: unknown): CatalogFailure | undefined {
    const check = checkTableExtensions(extensions, this.bounds.extensionsBytesMax);
    return check.ok ? undefined : { code: "InvalidTableOptions", message: `cannot ${action}: ${check.message}` };
  }

  /** Why a create that was stored did not win: a concurrent create with a lower stamp, or a drop. */
  private lostCreate(name: string): CatalogFailure {
    const winner = this.state.record(name);
    const live = winner === undefined ? undefined : liveIncarnation(winner);
    const message =
      live === undefined
        ? `cannot create table "${name}": a concurrent drop removed it`
        : `cannot create table "${name}": a concurrent create on node ${live.created.by} came first`;
    return { code: "TableExists", message };
  }

  /**
   * A stamp above everything the name's record holds, so this change beats all it saw. Stamps
   * of one name only grow, whatever the clock does; the node's HLC is not dragged forward by a
   * peer's stamp (the item path's timestamps stay near this node's wall clock, and HLC.receive
   * keeps its skew check).
   */
  private nextStamp(record: NameRecord | undefined): CatalogStamp {
    const highest = record === undefined ? null : highestStamp(record);
    const now = this.runtime.hlc.now();
    return { at: highest !== null && now <= highest.at ? highest.at + 1 : now, by: this.runtime.nodeId };
  }

  private async changeLocally(record: NameRecord): Promise<void> {
    await this.persist([this.state.apply(record)]);
  }

  /** Pushes the name's record to the others; merges their answers; returns who did not answer. */
  private async publishName(name: string): Promise<NodeId[]> {
    const record = this.state.record(name);
    if (this.publisher === undefined || record === undefined) return [];
    const outcome = await this.publisher.publish([record]);
    await this.merge(outcome.replies.filter((reply) => reply.name === name));
    return outcome.missing;
  }

  private async persist(changes: readonly AppliedChange[]): Promise<void> {
    const ops: WriteOp[] = changes.filter((c) => c.changed).map((c) => ({ type: "put", key: catalogKey(c.record.name), value: pack(c.record) }));
    const queued = new Set(this.droppedTableIds);
    const died = [...new Set(changes.flatMap((c) => c.died))].filter((id) => !queued.has(id));
    if (died.length > 0) {
      this.droppedTableIds = [...this.droppedTableIds, ...died];
      ops.push(dropListOp(this.droppedTableIds));
    }
    if (ops.length > 0) await this.write(ops);
    if (died.length > 0) for (const listener of this.droppedListeners) listener(died);
  }

  private write(ops: readonly WriteOp[]): Promise<void> {
    return this.runtime.storage.write(ops, { durable: this.options.durableWrites });
  }

  /** Runs one local change of `name` after the ones already queued (bounded by callers in flight). */
  private serialize<T>(name: string, work: () => Promise<T>): Promise<T> {
    const previous = this.nameQueues.get(name) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tail = next.catch(() => undefined);
    this.nameQueues.set(name, tail);
    void tail.then(() => {
      if (this.nameQueues.get(name) === tail) this.nameQueues.delete(name);
    });
    return next;
  }

  private load(): void {
    const { storage } = this.runtime;
    let names = 0;
    for (const entry of storage.range({ prefix: namespacePrefix(Namespace.catalog), limit: this.bounds.incarnationsMax + 1 })) {
      names++;
      const value = unpack(entry.value) as unknown;
      const record = parseNameRecord(value, this.bounds) ?? legacyNameRecord(value, this.runtime.nodeId, this.bounds);
      assert(record !== undefined, "a catalog entry is neither a name record nor a table definition");
      this.state.apply(record);
    }
    // Loading only part of the catalog would hide tables; refuse to start instead.
    if (names > this.bounds.incarnationsMax) {
      throw new Error(`cannot open the table catalog: it holds more than ${this.bounds.incarnationsMax} table names; raise limits.tablesMax to start this node`);
    }
    if (this.state.liveCount > this.options.tablesMax) {
      throw new Error(`cannot open the table catalog: it holds more than ${this.options.tablesMax} tables; raise limits.tablesMax to start this node`);
    }
  }
}

/** A patch whose replication and extensions equal the table's (extensions are plain JSON data). */
function patchChangesNothing(table: TableDefinition, patch: TablePatch): boolean {
  const replication = patch.replication;
  if (replication !== undefined && (replication.n !== table.replication.n || replication.r !== table.replication.r || replication.w !== table.replication.w)) return false;
  return patch.extensions === undefined || sameJson(patch.extensions, table.extensions ?? {});
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const aKeys = Object.keys(a);
  const bKeys = Object.keys(b);
  if (aKeys.length !== bKeys.length) return false;
  const bRecord = b as Record<string, unknown>;
  return aKeys.every((key) => Object.prototype.hasOwnProperty.call(bRecord, key) && sameJson((a as Record<string, unknown>)[key], bRecord[key]));
}

function unavailable(action: string, missing: NodeId[]): CatalogFailure {
  const shown = missing.slice(0, 10).join(", ");
  const message = `cannot ${action} on every node: ${missing.length} up member(s) did not acknowledge (${shown}${missing.length > 10 ? ", ..." : ""}); the change is kept here and catalog sync will finish it`;
  return { code: "CatalogUnavailable", message, missing };
}

function dropListOp(ids: readonly number[]): WriteOp {
  return { type: "put", key: droppedTablesKey, value: pack(ids) };
}

function readDroppedTableIds(runtime: Runtime): number[] {
  const bytes = runtime.storage.get(droppedTablesKey);
  if (bytes === undefined) return [];
  const ids = unpack(bytes) as number[];
  assert(Array.isArray(ids), "dropped-table list is not an array");
  return ids;
}
