import type { TableDefinition } from "../catalog/table-definition.js";
import type { ItemWrite } from "../replica/item-write.js";
import { KeyLocks, type KeyLocksOptions } from "../replica/key-locks.js";
import type { ReplicaService } from "../replica/replica-service.js";
import type { ScanPlacement } from "../replica/replica-messages.js";
import { scanEntriesMax, type ScanRange } from "../replica/sibling-scan.js";
import { storeFailure, type StoreFailure, type StoreResult } from "../replica/store-result.js";
import { partitionOf } from "../ring/partition-hash.js";
import { movingFrom, preferenceList } from "../ring/preference-list.js";
import { previousRing, type RingState } from "../ring/ring-state.js";
import type { NodeId } from "../runtime/network.js";
import type { Runtime } from "../runtime/runtime.js";
import { decodeItemKey } from "../storage/item-key.js";
import { decodeCausalContext, encodeCausalContext } from "../versioning/causal-context.js";
import { mergeVersionVectors, type VersionVector } from "../versioning/version-vector.js";
import { boundedMap } from "./bounded-map.js";
import type { EventualCoordinator, EventualGetResult, EventualPutResult } from "./eventual-coordinator.js";
import type {
  BatchItemOutcome,
  BatchItemWrite,
  BatchResult,
  DeleteResult,
  ItemChange,
  NamedItemChange,
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
} from "./item-operations.js";
import { itemVersionOf, itemVersionsOf, proposalOf, versionOfDot } from "./item-version.js";
import { describeQuorumFailure, type QuorumFailure } from "./quorum-failure.js";
import { quorumOptions, type Quorum, type QuorumOverrides } from "./quorum-options.js";
import { gatherScans, type ScanGathered } from "./scan-fan-out.js";
import { mergeScanReplies } from "./scan-merge.js";
import { encodedKey, listRange, queryRange } from "./scan-ranges.js";
import { hasCondition, writeConditionRefusal } from "./write-condition-check.js";

/**
 * The front doors' ItemOperations on a node of a cluster (DESIGN.md, "How a request flows"):
 * eventual tables over the EventualCoordinator (quorums over the preference list, siblings
 * under dotted version vectors, causal contexts as opaque strings); strong tables through the
 * strong path when one is given (strong-item-operations.ts), else refused with BadRequest.
 *
 * Conditions on eventual tables (If-Match, If-None-Match) are checked against a quorum read
 * just before the write, which then carries that read's context: best effort, not atomic (two
 * coordinators can both pass). One coordinator runs the read-check-write of one key one at a
 * time (a per-key lock), so on a single node, or through one node, a condition is exact. A delete without a context reads first too and deletes what
 * that read saw (a tombstone without a context would be a sibling that deletes nothing).
 * list scatters "replica.list" to every up member and merges the replies once they include a
 * primary of every partition; query asks one partition key's
 * up primaries and waits for r of them (scan-merge.ts says when a page is complete). A query's
 * scans carry the ring version and n it placed the partition key on (replica/ring-fence.ts): a
 * round that got fewer than r replies because replicas refused it for a newer ring learns that
 * ring and is asked once more of the partition key's primaries on it.
 *
 * Example:
 *   const items = new ClusterCoordinator({ runtime, eventual, replicas, membership, requestTimeoutMs: 2000 });
 *   const read = await items.get(table, { partitionKey: bytes("cart:42") }, { quorum: {} });
 *   if (read.ok) await items.put(table, key, write, { quorum: { w: 3 }, condition: {}, context: read.value.context });
 */
export interface ClusterCoordinatorOptions {
  runtime: Pick<Runtime, "nodeId" | "clock" | "hlc" | "network">;
  eventual: EventualCoordinator;
  replicas: Pick<ReplicaService, "scan">;
  membership: { ring(): RingState | undefined; isUp(id: NodeId): boolean };
  /** Deadline of each replica scan. */
  requestTimeoutMs: number;
  /** The strong path; without it strong tables are refused (BadRequest). */
  strong?: Pick<ItemOperations, "get" | "put" | "delete" | "modify" | "list" | "query">;
  /** Keys of one batch worked on at once. */
  batchConcurrencyMax?: number;
  /** Bounds of the per-key lock around conditional writes. */
  conditionLocks?: KeyLocksOptions;
  /** Scan rounds one list or query page may take to fill (tombstones and expired items make rounds come back short). */
  scanRoundsMax?: number;
}

export const clusterCoordinatorDefaults = Object.freeze({
  batchConcurrencyMax: 16,
  scanRoundsMax: 4,
  conditionLocks: Object.freeze({ keysMax: 100_000, waitersPerKeyMax: 1024 }),
});

type Failure = { ok: false; error: StoreFailure };

/** The replicas one scan round asks, where they were placed (ring-fence.ts), and for a list when the replies cover the table. */
interface ScanTargets {
  nodes: NodeId[];
  placed?: ScanPlacement;
  complete?: (answered: ReadonlySet<NodeId>) => boolean;
}

export class ClusterCoordinator implements ItemOperations {
  private readonly batchConcurrencyMax: number;
  private readonly scanRoundsMax: number;
  private readonly conditionLocks: KeyLocks;

  constructor(private readonly options: ClusterCoordinatorOptions) {
    this.conditionLocks = new KeyLocks(options.conditionLocks ?? clusterCoordinatorDefaults.conditionLocks);
    this.batchConcurrencyMax = options.batchConcurrencyMax ?? clusterCoordinatorDefaults.batchConcurrencyMax;
    this.scanRoundsMax = options.scanRoundsMax ?? clusterCoordinatorDefaults.scanRoundsMax;
  }

  async get(table: TableDefinition, key: ItemKeyParts, options: ReadOptions): Promise<StoreResult<ItemRead>> {
    if (table.consistency === "strong") return this.strongOr(table, (strong) => strong.get(table, key, options));
    if (options.consistency === "strong") return storeFailure("BadRequest", `consistency=strong needs a strong table; table "${table.name}" is eventual`);
    const quorum = this.quorum(table, options.quorum);
    if (!quorum.ok) return quorum;
    const read = await this.read(table, key, quorum.quorum);
    if (!read.ok) return read;
    return { ok: true, value: { siblings: read.siblings, context: contextText(read.context) } };
  }

  put(table: TableDefinition, key: ItemKeyParts, write: ItemWrite, options: WriteOptions): Promise<StoreResult<PutResult>> {
    // Not async: each branch's promise is handed on as it is (a put's hottest path, no extra hops).
    if (table.consistency === "strong") return this.strongOr(table, (strong) => strong.put(table, key, write, options));
    if (!hasCondition(options.condition)) return this.putEventual(table, key, write, options);
    return this.withConditionLock(table, key, () => this.putEventual(table, key, write, options));
  }

  async delete(table: TableDefinition, key: ItemKeyParts, options: WriteOptions): Promise<StoreResult<DeleteResult>> {
    if (table.consistency === "strong") return this.strongOr(table, (strong) => strong.delete(table, key, options));
    return this.withConditionLock(table, key, () => this.deleteEventual(table, key, options));
  }

  private async putEventual(table: TableDefinition, key: ItemKeyParts, write: ItemWrite, options: WriteOptions): Promise<StoreResult<PutResult>> {
    // An unconditional put reads nothing first: its quorum and context are at hand, without a hop through prepareWrite.
    const prepared = hasCondition(options.condition) ? await this.prepareWrite(table, key, options) : this.writeBasics(table, options);
    if (!prepared.ok) return prepared;
    const proposal = proposalOf(write);
    const result = await this.options.eventual.put({ key: encodedKey(table, key), proposal, context: prepared.context, quorum: prepared.quorum, lww: table.conflicts === "lww" });
    if (!result.ok) return writeFailure(result);
    const timestamp = result.timestamp ?? this.options.runtime.hlc.peek();
    const item = itemVersionOf({ ...proposal, timestamp }, versionOfDot(result.dot));
    const created = prepared.read !== undefined ? prepared.read.siblings.length === 0 : result.existed !== true;
    const context = result.context ?? mergeVersionVectors(prepared.context ?? [], [result.dot]);
    return { ok: true, value: { item, created, context: contextText(context) } };
  }

  private async deleteEventual(table: TableDefinition, key: ItemKeyParts, options: WriteOptions): Promise<StoreResult<DeleteResult>> {
    const needsRead = options.context === undefined || options.context === "";
    const prepared = await this.prepareWrite(table, key, options, needsRead);
    if (!prepared.ok) return prepared;
    if (prepared.read !== undefined && prepared.read.siblings.length === 0) return { ok: true, value: { existed: false } };
    const result = await this.options.eventual.delete({ key: encodedKey(table, key), context: prepared.context, quorum: prepared.quorum, lww: table.conflicts === "lww" });
    if (!result.ok) return writeFailure(result);
    return { ok: true, value: { existed: prepared.read !== undefined || result.existed === true } };
  }

  modify(table: TableDefinition, key: ItemKeyParts, change: ItemChange, named?: NamedItemChange): Promise<StoreResult<ModifyResult>> {
    if (table.consistency === "strong") return this.strongOr(table, (strong) => strong.modify(table, key, change, named));
    return Promise.resolve(storeFailure("BadRequest", `a read-modify-write needs a strong table; table "${table.name}" is eventual`));
  }

  async list(table: TableDefinition, request: ListRequest): Promise<StoreResult<ListPage>> {
    if (table.consistency === "strong") return this.strongOr(table, (strong) => strong.list(table, request));
    if (request.consistency === "strong") return storeFailure("BadRequest", `consistency=strong needs a strong table; table "${table.name}" is eventual`);
    const quorum = this.quorum(table, {});
    if (!quorum.ok) return quorum;
    const ring = this.options.membership.ring();
    if (ring === undefined) return storeFailure("Unavailable", "cannot list: this node has no ring yet");
    const first = listRange(table, request, clampLimit(request.limit));
    return this.scanPages(table, "replica.list", this.listTargets(quorum.quorum.n, ring), 1, first, false, () => {
      const now = this.options.membership.ring();
      return now === undefined ? undefined : this.listTargets(quorum.quorum.n, now);
    });
  }

  /**
   * A list's replicas on `ring`: every up member, and the page is complete only once the nodes
   * that answered include a primary of every partition (at the table's n): a member holds only
   * the partitions it serves, so one member's page is not the table's. Its scans carry the
   * ring's version: a member on a newer ring refuses them (ring-fence.ts), since the coverage
   * was worked out on a ring that may place a partition on a node that released it since.
   */
  private listTargets(n: number, ring: RingState): ScanTargets {
    const width = Math.min(n, ring.members.length);
    const nodes = ring.members.map((member) => member.id).filter((id) => this.isUp(id));
    const owners = new Map<string, NodeId[]>();
    // While partitions move (a ring in transition), a gaining node is still filling them: a
    // partition's old list needs an answer too (as a read's joint quorum, joint-get-core.ts).
    const old = previousRing(ring);
    for (const [assignment, wide] of old === undefined ? [[ring, width] as const] : [[ring, width] as const, [old, Math.min(n, old.members.length)] as const]) {
      for (let partition = 0; partition < ring.partitionCount; partition++) {
        const list = preferenceList(assignment, partition, wide);
        owners.set(list.join("\u0000"), list);
      }
    }
    if (old !== undefined) for (const member of old.members) if (!nodes.includes(member.id) && this.isUp(member.id)) nodes.push(member.id);
    const sets = [...owners.values()];
    return { nodes, placed: { ringVersion: ring.version, n: width }, complete: (answered) => sets.every((list) => list.some((id) => answered.has(id))) };
  }

  async query(table: TableDefinition, request: QueryRequest): Promise<StoreResult<ListPage>> {
    if (table.consistency === "strong") return this.strongOr(table, (strong) => strong.query(table, request));
    if (request.consistency === "strong") return storeFailure("BadRequest", `consistency=strong needs a strong table; table "${table.name}" is eventual`);
    const quorum = this.quorum(table, {});
    if (!quorum.ok) return quorum;
    const ring = this.options.membership.ring();
    if (ring === undefined) return storeFailure("Unavailable", "cannot query: this node has no ring yet");
    const first = queryRange(table, request, clampLimit(request.limit));
    return this.scanPages(table, "replica.query", this.queryTargets(request.partitionKey, quorum.quorum.n, quorum.quorum.r, ring), quorum.quorum.r, first, request.reverse, () => {
      const now = this.options.membership.ring();
      return now === undefined ? undefined : this.queryTargets(request.partitionKey, quorum.quorum.n, quorum.quorum.r, now);
    });
  }

  /**
   * A query's replicas on `ring`: the partition key's up primaries, and the placement its scans
   * carry (ring-fence.ts). While the partition moves (a ring in transition), its old primaries
   * too, and the page is complete only with r answers from each list (a gaining node is still
   * filling the partition; joint-get-core.ts says why both).
   */
  private queryTargets(partitionKey: Uint8Array, n: number, r: number, ring: RingState): ScanTargets {
    const width = Math.min(n, ring.members.length);
    const partition = partitionOf(partitionKey, ring.partitionCount);
    const primaries = preferenceList(ring, partition, width);
    const placed = { ringVersion: ring.version, n: width };
    const oldPrimaries = movingFrom(ring, partition, n)?.primaries;
    if (oldPrimaries === undefined) return { nodes: primaries.filter((id) => this.isUp(id)), placed };
    const nodes = [...primaries, ...oldPrimaries.filter((id) => !primaries.includes(id))].filter((id) => this.isUp(id));
    const enough = (list: readonly NodeId[], answered: ReadonlySet<NodeId>) => list.filter((id) => answered.has(id)).length >= Math.min(r, list.length);
    return { nodes, placed, complete: (answered) => enough(primaries, answered) && enough(oldPrimaries, answered) };
  }

  async batch(table: TableDefinition, gets: readonly ItemKeyParts[], writes: readonly BatchItemWrite[]): Promise<StoreResult<BatchResult>> {
    const reads = await boundedMap(gets, this.batchConcurrencyMax, (key) => this.get(table, key, { quorum: {} }));
    const readFailure = reads.find((read) => !read.ok);
    if (readFailure !== undefined && !readFailure.ok) return readFailure;
    const blind: WriteOptions = { quorum: {}, condition: {} };
    const outcomes = await boundedMap(writes, this.batchConcurrencyMax, async (write): Promise<StoreResult<BatchItemOutcome>> => {
      if (write.type === "put") {
        const put = await this.put(table, write.key, write.write, blind);
        return put.ok ? { ok: true, value: { type: "put", item: put.value.item } } : put;
      }
      const deleted = await this.delete(table, write.key, blind);
      return deleted.ok ? { ok: true, value: { type: "delete", existed: deleted.value.existed } } : deleted;
    });
    const writeFailed = outcomes.find((outcome) => !outcome.ok);
    if (writeFailed !== undefined && !writeFailed.ok) return writeFailed;
    return { ok: true, value: { gets: reads.map((read) => (read as { ok: true; value: ItemRead }).value), writes: outcomes.map((o) => (o as { ok: true; value: BatchItemOutcome }).value) } };
  }

  /** A quorum read: the live versions at this node's clock and the causal context of everything seen. */
  private async read(table: TableDefinition, key: ItemKeyParts, quorum: Quorum): Promise<{ ok: true; siblings: ItemVersion[]; context: VersionVector } | Failure> {
    const result: EventualGetResult = await this.options.eventual.get(encodedKey(table, key), quorum, table.conflicts === "lww", key.partitionKey);
    if (!result.ok) return result.error === "quorum" ? storeFailure("Unavailable", `cannot read: ${describeQuorumFailure(result)}`) : eventualFailure(result, "read");
    return { ok: true, siblings: itemVersionsOf(result.set, this.options.runtime.clock.nowMs()), context: result.context };
  }

  /** The quorum, the context a write carries, and the read that checked its condition (if any). */
  private async prepareWrite(
    table: TableDefinition,
    key: ItemKeyParts,
    options: WriteOptions,
    readFirst = false,
  ): Promise<{ ok: true; quorum: Quorum; context: VersionVector | undefined; read?: { siblings: ItemVersion[] } } | Failure> {
    const basics = this.writeBasics(table, options);
    if (!basics.ok || (!readFirst && !hasCondition(options.condition))) return basics;
    const { quorum, context } = basics;
    const read = await this.read(table, key, quorum);
    if (!read.ok) return read;
    const refusal = writeConditionRefusal(read.siblings, options.condition);
    if (refusal !== null) return storeFailure("PreconditionFailed", refusal);
    const seen = context === undefined ? read.context : mergeVersionVectors(context, read.context);
    return { ok: true, quorum, context: seen.length === 0 ? undefined : seen, read };
  }

  /** A write's quorum and the causal context it carries (what a write that reads nothing first needs). */
  private writeBasics(table: TableDefinition, options: WriteOptions): { ok: true; quorum: Quorum; context: VersionVector | undefined; read?: { siblings: ItemVersion[] } } | Failure {
    const quorum = this.quorum(table, options.quorum);
    if (!quorum.ok) return quorum;
    let context: VersionVector | undefined;
    if (options.context !== undefined && options.context !== "") {
      const decoded = decodeCausalContext(options.context);
      if (!decoded.ok) return storeFailure("BadRequest", `the causal context (X-Shoal-Context) is malformed: ${decoded.error}`);
      context = decoded.context;
    }
    return { ok: true, quorum: quorum.quorum, context };
  }

  /**
   * Scan rounds until the page holds `limit` items or the range ends (at most scanRoundsMax rounds).
   * A round needs `needed` replies, and the targets' `complete` (a list: every partition) when
   * given. With `replace`: a round short of that because replicas refused it for a newer ring
   * learns that ring and is asked once more of `replace()`'s targets, once per page.
   */
  private async scanPages(table: TableDefinition, type: "replica.list" | "replica.query", initial: ScanTargets, needed: number, first: ScanRange, reverse: boolean, replace?: () => ScanTargets | undefined): Promise<StoreResult<ListPage>> {
    const page: ListPage = { items: [], resumeAfter: null };
    let range = first;
    let targets = initial;
    let replaced = false;
    const fanOut = { self: this.options.runtime.nodeId, network: this.options.runtime.network, replicas: this.options.replicas, timeoutMs: this.options.requestTimeoutMs };
    const short = (gathered: ScanGathered): boolean => gathered.replies.length < needed || gathered.replies.length === 0 || (targets.complete !== undefined && !targets.complete(gathered.answered));
    for (let round = 0; round < this.scanRoundsMax; round++) {
      let gathered = await gatherScans(fanOut, type, targets.nodes, range, needed, targets.placed, targets.complete);
      if (short(gathered) && gathered.refusals.length > 0 && replace !== undefined && !replaced && targets.placed !== undefined) {
        replaced = true;
        const placedVersion = targets.placed.ringVersion;
        const deadlineMs = this.options.runtime.clock.nowMs() + this.options.requestTimeoutMs;
        const again = (await this.options.eventual.learnNewerRing(gathered.refusals, placedVersion, deadlineMs)) ? replace() : undefined;
        if (again?.placed !== undefined && again.placed.ringVersion > placedVersion) {
          targets = again;
          gathered = await gatherScans(fanOut, type, targets.nodes, range, needed, targets.placed, targets.complete);
        }
      }
      if (short(gathered)) {
        const action = type === "replica.list" ? "list" : "query";
        const errors = gathered.errors.map((e) => `${e.node}: ${e.error}`).join("; ");
        if (gathered.replies.length >= needed && gathered.replies.length > 0) return storeFailure("Unavailable", `cannot ${action}: the ${gathered.replies.length} members that answered do not hold every partition (${errors})`);
        return storeFailure("Unavailable", `cannot ${action}: ${gathered.replies.length} of ${Math.max(needed, 1)} required replies (${errors})`);
      }
      const merged = mergeScanReplies(gathered.replies, { reverse, limit: range.limit, nowMs: this.options.runtime.clock.nowMs(), lww: table.conflicts === "lww" });
      for (const item of merged.items) page.items.push({ key: keyParts(item.key), siblings: item.siblings });
      page.resumeAfter = merged.resumeAfter === null ? null : keyParts(merged.resumeAfter);
      if (merged.resumeAfter === null || page.items.length >= first.limit) break;
      const after = { key: merged.resumeAfter, inclusive: false };
      range = reverse ? { ...range, high: after, limit: first.limit - page.items.length } : { ...range, low: after, limit: first.limit - page.items.length };
    }
    return { ok: true, value: page };
  }

  /** Runs a read-check-write of one key while no other one of that key runs through this coordinator. */
  private async withConditionLock<T>(table: TableDefinition, key: ItemKeyParts, work: () => Promise<StoreResult<T>>): Promise<StoreResult<T>> {
    const itemKey = encodedKey(table, key);
    const name = Buffer.from(itemKey.buffer, itemKey.byteOffset, itemKey.byteLength).toString("latin1");
    if (!(await this.conditionLocks.acquire([name]))) return storeFailure("Overloaded", "too many conditional writes are waiting on this key; retry later");
    try {
      return await work();
    } finally {
      this.conditionLocks.release([name]);
    }
  }

  private quorum(table: TableDefinition, overrides: QuorumOverrides): { ok: true; quorum: Quorum } | Failure {
    const members = Math.max(1, this.options.membership.ring()?.members.length ?? 1);
    const result = quorumOptions(table.replication, overrides, members);
    return result.ok ? result : storeFailure("BadRequest", `table "${table.name}": ${result.error}`);
  }

  private strongOr<T>(table: TableDefinition, work: (strong: NonNullable<ClusterCoordinatorOptions["strong"]>) => Promise<StoreResult<T>>): Promise<StoreResult<T>> {
    const strong = this.options.strong;
    if (strong === undefined) return Promise.resolve(storeFailure("BadRequest", `table "${table.name}" is strong and this node does not serve strong tables yet`));
    return work(strong);
  }

  private isUp(id: NodeId): boolean {
    return id === this.options.runtime.nodeId || this.options.membership.isUp(id);
  }
}

/** The opaque text of a causal context; "" when the replicas hold nothing for the key. */
function contextText(context: VersionVector): string {
  return context.length === 0 ? "" : encodeCausalContext(context);
}

function keyParts(itemKey: Uint8Array): ItemKeyParts {
  const decoded = decodeItemKey(itemKey);
  return decoded.sortKey === undefined ? { partitionKey: decoded.partitionKey } : { partitionKey: decoded.partitionKey, sortKey: decoded.sortKey };
}

function clampLimit(limit: number): number {
  return Math.max(1, Math.min(scanEntriesMax, Math.floor(limit)));
}

function writeFailure(result: Exclude<EventualPutResult, { ok: true }>): Failure {
  if (result.error === "quorum") return storeFailure("Unavailable", `cannot write: ${describeQuorumFailure(result as QuorumFailure<string>)}`);
  return eventualFailure(result, "write");
}

function eventualFailure(result: { error: "unavailable" | "siblings-full" | "overloaded" | "bad-request"; message: string }, action: string): Failure {
  switch (result.error) {
    case "siblings-full":
      return storeFailure("TooManySiblings", `cannot ${action}: ${result.message}; resolve the siblings with a write carrying their context`);
    case "overloaded":
      return storeFailure("Overloaded", `cannot ${action}: ${result.message}`);
    case "bad-request":
      return storeFailure("BadRequest", `cannot ${action}: ${result.message}`);
    case "unavailable":
      return storeFailure("Unavailable", `cannot ${action}: ${result.message}`);
  }
}
