import type { TableDefinition } from "../catalog/table-definition.js";
import type { StrongChange, StrongCoordinator, StrongDecision, StrongPlacement, StrongResult, StrongValue, StrongVersioned } from "../paxos/strong-coordinator.js";
import type { NodeId } from "../runtime/network.js";
import { decodeItemKey, encodeItemKey } from "../storage/item-key.js";
import { scanAcceptedValues, type AcceptedPage, type AcceptedScanOptions } from "./accepted-scan.js";
import { boundedMap } from "./bounded-map.js";
import type { ItemWrite, WriteCondition } from "../replica/item-write.js";
import { scanEntriesMax, type ScanRange } from "../replica/sibling-scan.js";
import { storeFailure, type StoreFailure, type StoreResult } from "../replica/store-result.js";
import type { Clock } from "../runtime/runtime.js";
import type {
  DeleteResult,
  ItemChange,
  ItemKeyParts,
  ItemOperations,
  ItemRead,
  ItemVersion,
  ListPage,
  ListRequest,
  ModifyResult,
  NamedItemChange,
  PutResult,
  QueryRequest,
  ReadOptions,
  WriteOptions,
} from "./item-operations.js";
import { encodedKey, listRange, queryRange } from "./scan-ranges.js";
import { frontierOf } from "./scan-merge.js";
import { compareBytes } from "../storage/byte-order.js";
import { strongWriteRefusal, type ChangeRefusal, type ForwardableChange, type StrongWrite } from "../paxos/strong-write.js";

/**
 * ItemOperations of strong tables over CASPaxos (DESIGN.md, "The strong path"): a get is the
 * protocol's read (the identity change, accept phase included; linearizable), or with
 * consistency "eventual" this node's acceptor record alone; put, delete and modify are changes
 * whose decision (the If-Match / If-None-Match check, the caller's ItemChange) runs inside the
 * round on the current value, so conditions are atomic. A decision may run more than once (a
 * lost race retries), so it only records what it decided, and the last run's record is the
 * answer. No causal contexts (context is ""), no siblings: one version at most.
 *
 * query with consistency "eventual" reads one acceptor's records (the first of the partition
 * key's acceptors that answers, this node first); with "strong" it scans a majority of the
 * acceptors and re-reads each key found through the protocol, so a completed write is never
 * missed. list scans every up member; "strong" (its default) needs a majority of every
 * partition's acceptors among them and re-reads each key.
 *
 * Failures: "unavailable" -> Unavailable (nothing happened), "indeterminate" -> Indeterminate
 * (it may have happened), "overloaded" -> Overloaded.
 */
export interface StrongItemOperationsOptions {
  strong: Pick<StrongCoordinator, "change" | "write" | "read" | "readFast" | "readLocal">;
  clock: Clock;
  /** The ring's member count (n is capped at it, like the eventual quorums). */
  members: () => number;
  /**
   * The named read-modify-writes this node builds (NamedItemChange: an increment, ...), by kind;
   * a `modify` named so is proposed at the key's first live primary, which builds the same
   * change from its args (paxos/README.md, "Forwarding read-modify-writes"). A builder returns
   * the change, or why the args are refused.
   */
  itemChangeKinds?: Readonly<Record<string, (args: unknown) => ItemChange | string>>;
  /** For query: where a key's acceptors are, who is up, and how to scan one. */
  scan?: AcceptedScanOptions & {
    placement: StrongPlacement;
    isUp: (id: NodeId) => boolean;
    upMembers: () => NodeId[];
    /**
     * For a strong list: the distinct acceptor sets of every partition at this n (current and,
     * in a transition, previous); a majority of each must answer. Absent: not checked.
     */
    coverage?: (n: number) => readonly (readonly NodeId[])[];
  };
}

/** The paxos change kind of named item changes (NamedItemChange): args {kind, args}. */
export const itemChangeKind = "item";

/** Keys of one strong query page re-read through the protocol at once. */
const strongRereadsConcurrencyMax = 16;
/** Scan pages one query may take to fill (tombstones make pages come back short). */
const strongScanRoundsMax = 4;

type Failure = { ok: false; error: StoreFailure };
type Refusal = { code: "PreconditionFailed" | "BadRequest"; message: string } | undefined;

export class StrongItemOperations implements Pick<ItemOperations, "get" | "put" | "delete" | "modify" | "list" | "query"> {
  constructor(private readonly options: StrongItemOperationsOptions) {}

  async get(table: TableDefinition, key: ItemKeyParts, options: ReadOptions): Promise<StoreResult<ItemRead>> {
    if (options.consistency === "eventual") {
      const local = this.options.strong.readLocal(encodedKey(table, key));
      return { ok: true, value: { siblings: this.versions(local.value), context: "" } };
    }
    // One round trip without writes when a majority agrees; the full identity round otherwise (paxos/README.md).
    const read = await this.options.strong.readFast(encodedKey(table, key), this.n(table));
    if (!read.ok) return strongFailure(read, "read");
    return { ok: true, value: { siblings: this.versions(read.value), context: "" } };
  }

  // Puts and deletes are data (StrongWrite), so a node that is not the key's first live primary
  // hands them to it (StrongCoordinator.write; paxos/README.md, "Forwarding writes to the first primary").
  async put(table: TableDefinition, key: ItemKeyParts, write: ItemWrite, options: WriteOptions): Promise<StoreResult<PutResult>> {
    const changed = await this.write(table, key, { type: "set", value: strongValueOf(write), ...conditionOf(options) });
    if (!changed.ok) return changed;
    const item = this.live(changed.value.after);
    if (item === undefined) return storeFailure("Indeterminate", "the write was accepted but its value did not come back");
    return { ok: true, value: { item, created: this.live(changed.value.before) === undefined, context: "" } };
  }

  async delete(table: TableDefinition, key: ItemKeyParts, options: WriteOptions): Promise<StoreResult<DeleteResult>> {
    const changed = await this.write(table, key, { type: "delete", ...conditionOf(options) });
    if (!changed.ok) return changed;
    return { ok: true, value: { existed: this.live(changed.value.before) !== undefined } };
  }

  async modify(table: TableDefinition, key: ItemKeyParts, change: ItemChange, named?: NamedItemChange): Promise<StoreResult<ModifyResult>> {
    if (named !== undefined && Object.hasOwn(this.options.itemChangeKinds ?? {}, named.kind)) return this.modifyNamed(table, key, change, named);
    const changed = await this.change(table, key, (current) => {
      const decided = change(current);
      if (decided.type === "abort") return { decision: { type: "keep" }, refusal: { code: decided.code, message: decided.message } };
      return { decision: decided.type === "put" ? { type: "set", value: strongValueOf(decided.write) } : { type: "delete" } };
    });
    if (!changed.ok) return changed;
    return { ok: true, value: { item: this.live(changed.value.after), previous: this.live(changed.value.before) } };
  }

  /**
   * A named read-modify-write, proposed at the key's first live primary (StrongCoordinator.write
   * with `{type: "change"}`), or here with `change` itself when this node proposes. A refusal
   * comes back as the deciding node's {code, message}; `change` is run once more on the value
   * that run saw so that what the caller's change records about its refusal (e.g. the
   * increment's reason) is set here too (it is pure: the same value, the same decision).
   */
  private async modifyNamed(table: TableDefinition, key: ItemKeyParts, change: ItemChange, named: NamedItemChange): Promise<StoreResult<ModifyResult>> {
    const write: StrongWrite = { type: "change", kind: itemChangeKind, args: { kind: named.kind, args: named.args } };
    const result = await this.options.strong.write(encodedKey(table, key), this.n(table), write, this.forwardable(change));
    if (!result.ok) return strongFailure(result, "write");
    const { before, after, refusal } = result.value;
    if (refusal !== undefined) {
      const again = change(this.live(before));
      if (again.type === "abort") return storeFailure(again.code, again.message);
      return storeFailure(refusal.code === "PreconditionFailed" ? "PreconditionFailed" : "BadRequest", refusal.message);
    }
    return { ok: true, value: { item: this.live(after), previous: this.live(before) } };
  }

  /**
   * Builds a named change another node sent here to propose (StrongCoordinatorOptions.changeKinds),
   * or says why it cannot: an unknown kind or args its builder refuses (the sender then proposes it).
   */
  changeKind(kind: string, args: unknown): ForwardableChange | string {
    if (kind !== itemChangeKind) return `unknown change kind "${kind.slice(0, 64)}"`;
    const item = args as { kind?: unknown; args?: unknown } | null;
    if (item === null || typeof item !== "object" || typeof item.kind !== "string") return "an item change without a kind";
    const kinds = this.options.itemChangeKinds ?? {};
    if (!Object.hasOwn(kinds, item.kind)) return `unknown item change "${item.kind.slice(0, 64)}"`;
    const change = kinds[item.kind]!(item.args);
    return typeof change === "string" ? `item change "${item.kind}": ${change}` : this.forwardable(change);
  }

  /** An ItemChange as the paxos layer's change: the decision on the live version, and why its last run aborted. */
  private forwardable(change: ItemChange): ForwardableChange {
    let refusal: ChangeRefusal | undefined;
    return {
      decide: (current) => {
        refusal = undefined;
        const decided = change(this.live(current));
        if (decided.type === "abort") {
          refusal = { code: decided.code, message: decided.message };
          return { type: "keep" };
        }
        return decided.type === "put" ? { type: "set", value: strongValueOf(decided.write) } : { type: "delete" };
      },
      refusal: () => refusal,
    };
  }

  /**
   * A strong table's listing: every up member's accepted values in the range (scatter, as the
   * eventual list does), paged up to the frontier (scan-merge.ts). With consistency "strong"
   * (the default) a majority of every partition's acceptors must have answered (`coverage`),
   * so every key a completed write left live is among the candidates, and each candidate is
   * re-read through the protocol: a value only a minority accepted and a deleted one never
   * show. With "eventual" a key its answering acceptors agree on is their value, without a
   * round, and a key they disagree on is re-read (settle).
   */
  async list(table: TableDefinition, request: ListRequest): Promise<StoreResult<ListPage>> {
    const scan = this.options.scan;
    if (scan === undefined) return storeFailure("BadRequest", `listing strong table "${table.name}" is not supported on this node`);
    const limit = Math.max(1, Math.min(scanEntriesMax, Math.floor(request.limit)));
    const strong = request.consistency !== "eventual";
    const union = await unionScan(scan, scan.upMembers(), listRange(table, request, limit), false, limit);
    if (union.answered.length === 0) return storeFailure("Unavailable", `cannot list: no member answered (${union.errors.join("; ")})`);
    if (strong) {
      const short = shortOfMajority(scan.coverage?.(this.n(table)) ?? [], union.answered);
      if (short !== undefined) return storeFailure("Unavailable", `cannot list consistently: ${short} (${union.errors.join("; ") || "no error reported"})`);
    }
    return strong ? this.reread(table, union.page) : this.settle(table, union.page, union.answered);
  }

  async query(table: TableDefinition, request: QueryRequest): Promise<StoreResult<ListPage>> {
    const scan = this.options.scan;
    if (scan === undefined) return storeFailure("BadRequest", `querying strong table "${table.name}" is not supported on this node`);
    const placed = scan.placement.acceptorsFor(encodeItemKey(table.id, request.partitionKey), this.n(table));
    if (placed === undefined) return storeFailure("Unavailable", "cannot query: this node has no ring yet");
    const limit = Math.max(1, Math.min(scanEntriesMax, Math.floor(request.limit)));
    if (request.consistency === "strong") return this.strongQuery(table, request, placed, limit);
    const targets = [...placed.acceptors].sort((a, b) => (a === scan.self ? -1 : b === scan.self ? 1 : 0)).filter((id) => id === scan.self || scan.isUp(id));
    const page: ListPage = { items: [], resumeAfter: null };
    let range = queryRange(table, request, limit);
    for (let round = 0; round < strongScanRoundsMax && page.items.length < limit; round++) {
      const scanned = await scanAcceptedValues(scan, targets, range);
      if (!scanned.ok) return storeFailure("Unavailable", `cannot query: no acceptor of the partition key answered (${scanned.errors.join("; ")})`);
      const { entries, exhausted } = scanned.page;
      for (const entry of entries) {
        const item = this.live(entry.value);
        if (item !== undefined && page.items.length < limit) page.items.push({ key: keyPartsOf(entry.key), siblings: [item] });
      }
      const last = entries[entries.length - 1];
      page.resumeAfter = exhausted || last === undefined ? null : keyPartsOf(last.key);
      if (page.resumeAfter === null) break;
      const after = { key: last!.key, inclusive: false };
      range = request.reverse ? { ...range, high: after, limit: limit - page.items.length } : { ...range, low: after, limit: limit - page.items.length };
    }
    return { ok: true, value: page };
  }

  /**
   * A strong query: every up acceptor of the partition key (and of its previous set while the
   * ring is in transition) scanned at once, a majority of each set required, the keys any of
   * them holds live up to the frontier re-read through the protocol. A write that completed
   * before the query was accepted by a majority, which meets the majority that answered.
   */
  private async strongQuery(table: TableDefinition, request: QueryRequest, placed: { acceptors: NodeId[]; previous?: NodeId[] }, limit: number): Promise<StoreResult<ListPage>> {
    const scan = this.options.scan!;
    const sets = placed.previous === undefined ? [placed.acceptors] : [placed.acceptors, placed.previous];
    const targets = [...new Set(sets.flat())].filter((id) => id === scan.self || scan.isUp(id));
    const union = await unionScan(scan, targets, queryRange(table, request, limit), request.reverse, limit);
    const short = shortOfMajority(sets, union.answered);
    if (short !== undefined) return storeFailure("Unavailable", `cannot query consistently: ${short} (${union.errors.join("; ") || "no error reported"})`);
    return this.reread(table, union.page);
  }

  /**
   * An eventual listing: a key whose answering acceptors (a majority of each of its acceptor
   * sets) all accepted the same version is that version, without a round; a key they disagree
   * on (a write or delete some of them missed, or not enough of them answered) is read through
   * the protocol. So a delete a lagging acceptor missed cannot keep showing the old item, and
   * only keys in flux cost a round. A re-read that fails (no majority reachable) falls back to
   * the newest answer, so an eventual listing stays available in a minority.
   */
  private async settle(table: TableDefinition, page: UnionPage, answered: readonly NodeId[]): Promise<StoreResult<ListPage>> {
    const n = this.n(table);
    const placement = this.options.scan!.placement;
    const settled = await boundedMap(page.items, strongRereadsConcurrencyMax, async (item): Promise<ItemVersion[]> => {
      if (agreed(item, placement.acceptorsFor(item.key, n), answered)) return this.versions(item.newest);
      const read = await this.get(table, keyPartsOf(item.key), { quorum: {} });
      // An eventual listing stays available without a majority: then the newest answer stands.
      return read.ok ? read.value.siblings : this.versions(item.newest);
    });
    const items = page.items.flatMap((item, i) => (settled[i]!.length === 0 ? [] : [{ key: keyPartsOf(item.key), siblings: settled[i]! }]));
    return { ok: true, value: { items, resumeAfter: page.resumeAfter === null ? null : keyPartsOf(page.resumeAfter) } };
  }

  /** A union page with each key read again through the protocol (a strong list or query). */
  private async reread(table: TableDefinition, page: UnionPage): Promise<StoreResult<ListPage>> {
    const keys = page.items.map((item) => keyPartsOf(item.key));
    const reads = await boundedMap(keys, strongRereadsConcurrencyMax, (key) => this.get(table, key, { quorum: {} }));
    const failed = reads.find((read) => !read.ok);
    if (failed !== undefined && !failed.ok) return failed;
    const items = keys.map((key, i) => ({ key, siblings: (reads[i] as { ok: true; value: ItemRead }).value.siblings })).filter((item) => item.siblings.length > 0);
    return { ok: true, value: { items, resumeAfter: page.resumeAfter === null ? null : keyPartsOf(page.resumeAfter) } };
  }

  /** A put or delete, proposed at the key's first live primary; a condition's refusal is read from what the change saw. */
  private async write(table: TableDefinition, key: ItemKeyParts, write: StrongWrite): Promise<{ ok: true; value: StrongChange } | Failure> {
    const result = await this.options.strong.write(encodedKey(table, key), this.n(table), write);
    if (!result.ok) return strongFailure(result, "write");
    const refusal = strongWriteRefusal(write, result.value.before);
    if (refusal !== undefined) return storeFailure("PreconditionFailed", refusal);
    return result;
  }

  /** One CASPaxos change whose decision sees the live version (expired reads as absent). */
  private async change(
    table: TableDefinition,
    key: ItemKeyParts,
    decide: (current: ItemVersion | undefined) => { decision: StrongDecision; refusal?: Refusal },
  ): Promise<{ ok: true; value: StrongChange } | Failure> {
    let refusal: Refusal;
    const result = await this.options.strong.change(encodedKey(table, key), this.n(table), (current) => {
      const decided = decide(this.live(current));
      refusal = decided.refusal;
      return decided.decision;
    });
    if (!result.ok) return strongFailure(result, "write");
    const refused = refusal as Refusal;
    if (refused !== undefined) return storeFailure(refused.code, refused.message);
    return result;
  }

  private live(value: StrongVersioned | undefined): ItemVersion | undefined {
    if (value === undefined || (value.expiresAtMs !== null && value.expiresAtMs <= this.options.clock.nowMs())) return undefined;
    return { value: value.value, contentType: value.contentType, metadata: Object.fromEntries(value.metadata), version: value.version, timestamp: value.timestamp, expiresAtMs: value.expiresAtMs };
  }

  private versions(value: StrongVersioned | undefined): ItemVersion[] {
    const live = this.live(value);
    return live === undefined ? [] : [live];
  }

  private n(table: TableDefinition): number {
    return Math.max(1, Math.min(table.replication.n, this.options.members()));
  }
}

function conditionOf(options: WriteOptions): { condition?: WriteCondition } {
  const { ifMatch, ifNoneMatch } = options.condition;
  return ifMatch === undefined && ifNoneMatch === undefined ? {} : { condition: options.condition };
}

function strongValueOf(write: ItemWrite): StrongValue {
  const metadata = Object.entries(write.metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { value: write.value, contentType: write.contentType, metadata, expiresAtMs: write.expiresAtMs };
}

function strongFailure(result: Extract<StrongResult<unknown>, { ok: false }>, action: string): Failure {
  switch (result.error) {
    case "unavailable":
      return storeFailure("Unavailable", `cannot ${action}: ${result.message}`);
    case "indeterminate":
      return storeFailure("Indeterminate", `the ${action} may or may not have happened: ${result.message}`);
    case "overloaded":
      return storeFailure("Overloaded", `cannot ${action}: ${result.message}`);
  }
}

function keyPartsOf(itemKey: Uint8Array): ItemKeyParts {
  const decoded = decodeItemKey(itemKey);
  return decoded.sortKey === undefined ? { partitionKey: decoded.partitionKey } : { partitionKey: decoded.partitionKey, sortKey: decoded.sortKey };
}

interface UnionItem {
  key: Uint8Array;
  /** The newest accepted value (highest accept timestamp) among the answers. */
  newest: StrongVersioned | undefined;
  /** Each answering node that holds a record for the key: the version it accepted ("" for a tombstone or a promise only). */
  versions: Map<NodeId, string>;
}

interface UnionPage {
  /** Candidate keys in scan order: some answer holds a value for each. */
  items: UnionItem[];
  resumeAfter: Uint8Array | null;
}

/**
 * Scans `targets` at once and unites their accepted values: the keys any of them holds a live
 * value for, up to the frontier of the ones that stopped on the limit, at most `limit` of them.
 */
async function unionScan(
  scan: AcceptedScanOptions,
  targets: readonly NodeId[],
  range: ScanRange,
  reverse: boolean,
  limit: number,
): Promise<{ answered: NodeId[]; errors: string[]; page: UnionPage }> {
  const scanned = await Promise.all(targets.map(async (node) => ({ node, result: await scanAcceptedValues(scan, [node], range) })));
  const answered: NodeId[] = [];
  const errors: string[] = [];
  const pages: AcceptedPage[] = [];
  for (const { node, result } of scanned) {
    if (result.ok) {
      answered.push(node);
      pages.push(result.page);
    } else errors.push(...result.errors);
  }
  const order = (a: Uint8Array, b: Uint8Array): number => (reverse ? compareBytes(b, a) : compareBytes(a, b));
  const frontier = frontierOf(pages, order);
  const seen = new Map<string, UnionItem>();
  pages.forEach((page, i) => {
    for (const entry of page.entries) {
      if (frontier !== undefined && order(entry.key, frontier) > 0) continue;
      const name = Buffer.from(entry.key.buffer, entry.key.byteOffset, entry.key.byteLength).toString("latin1");
      let item = seen.get(name);
      if (item === undefined) seen.set(name, (item = { key: entry.key, newest: undefined, versions: new Map() }));
      item.versions.set(answered[i]!, entry.value?.version ?? "");
      if (entry.value !== undefined && (item.newest === undefined || entry.value.timestamp > item.newest.timestamp)) item.newest = entry.value;
    }
  });
  // A key no answer holds a value for (tombstones, promises only) is no candidate.
  const keys = [...seen.values()].filter((item) => item.newest !== undefined).sort((a, b) => order(a.key, b.key));
  const taken = keys.slice(0, limit);
  const more = keys.length > limit || frontier !== undefined;
  const last = taken.length === limit ? taken[limit - 1]!.key : frontier;
  return { answered, errors, page: { items: taken, resumeAfter: more && last !== undefined ? last : null } };
}

/** Why the answers miss a majority of some acceptor set, or undefined when every set has one. */
function shortOfMajority(sets: readonly (readonly NodeId[])[], answered: readonly NodeId[]): string | undefined {
  for (const set of sets) {
    const got = set.filter((id) => answered.includes(id)).length;
    if (got * 2 <= set.length) return `${got} of the acceptors ${set.join(", ")} answered; a majority (${Math.floor(set.length / 2) + 1}) is needed`;
  }
  return undefined;
}

/** Whether a majority of each of the key's acceptor sets answered and every answering acceptor accepted the newest version. */
function agreed(item: UnionItem, placed: { acceptors: NodeId[]; previous?: NodeId[] } | undefined, answered: readonly NodeId[]): boolean {
  if (placed === undefined || item.newest === undefined) return false;
  const version = item.newest.version;
  for (const set of placed.previous === undefined ? [placed.acceptors] : [placed.acceptors, placed.previous]) {
    const asked = set.filter((id) => answered.includes(id));
    if (asked.length * 2 <= set.length || asked.some((id) => item.versions.get(id) !== version)) return false;
  }
  return true;
}
