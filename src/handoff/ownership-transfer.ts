import { assert } from "../assert.js";
import type { AcceptorService } from "../paxos/acceptor-service.js";
import { StrongCoordinator, type StrongResult, type StrongVersioned } from "../paxos/strong-coordinator.js";
import type { ScanRange } from "../replica/sibling-scan.js";
import { scanMessage } from "../replica/replica-messages.js";
import { partitionOf } from "../ring/partition-hash.js";
import { preferenceList } from "../ring/preference-list.js";
import { ringHash } from "../ring/ring-hash.js";
import { previousRing, type RingState } from "../ring/ring-state.js";
import type { NodeId } from "../runtime/network.js";
import type { Runtime, TimerHandle } from "../runtime/runtime.js";
import { prefixEnd } from "../storage/byte-order.js";
import { decodeItemKey, tableItemsPrefix } from "../storage/item-key.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import type { DottedVersionVectorSet } from "../versioning/dotted-version-vector-set.js";
import { isSibling, type Sibling } from "../versioning/sibling.js";
import { OwnershipLeader, type PublishedRing } from "./ownership-leader.js";
import { parseTransferDone, transferDoneMessage } from "./ownership-messages.js";
import { incomingPartitions, oldReplicasToRead, type IncomingPartition } from "./ownership-plan.js";
import { loadProgress, saveProgress, scanId, type TransferProgress } from "./ownership-progress.js";
import { transferStrongKeys, transferStrongPlacement } from "./ownership-strong.js";

/**
 * A node's ownership transfers (issue 6, item 2; Dynamo paper, section 4.9). While the ring is
 * in transition (ring-state.ts, `previous`), this node pulls every partition it gains from the
 * partition's old replicas, table by table:
 *
 * - eventual tables: pages of sibling sets ("replica.list", records "siblings"), one page in
 *   flight at a time (flow control), each key of a gained partition merged into the local
 *   replica (ReplicaService.merge: a join of causal histories, so repeats are harmless);
 * - strong tables: pages of keys ("replica.list", records "accepted"), each key of a gained
 *   partition re-read through CASPaxos under the joint acceptor sets (ownership-strong.ts),
 *   which writes its latest value to a majority of the new set.
 *
 * A partition of a table is filled once a strict majority of its old preference list was
 * scanned to the end (a value a majority accepted is on one of them; eventual data needs one,
 * more only repairs); when a dead node was replaced or removed, ceil(n/2) of the others
 * (ownership-plan.ts oldReplicasToRead; n = 2: the survivor), and strong keys are then read
 * with the old set narrowed the same way (ownership-strong.ts transferStrongPlacement). The
 * cursor is persisted after every page (ownership-progress.ts). Filled everything:
 * "handoff.done" to the ring leader each interval until the ring settles; the leader
 * (ownership-leader.ts, run here too) publishes the settled ring once every receiving node
 * reported. A source that fails is retried next interval; the ring stays in transition
 * meanwhile, which is safe (joint majorities) but slower.
 */
export interface OwnershipTable {
  readonly id: number;
  readonly strong: boolean;
  /** The table's replication n. */
  readonly n: number;
  readonly lww: boolean;
}

export interface OwnershipTransferOptions {
  runtime: Runtime;
  ring(): RingState | undefined;
  leader(): NodeId | undefined;
  /** Live tables (the catalog). */
  tables(): readonly OwnershipTable[];
  /** ReplicaService.merge. */
  merge(itemKey: Uint8Array, set: DottedVersionVectorSet<Sibling>, conflicts: { lww: boolean }): Promise<{ ok: true } | { ok: false; error: string }>;
  /** StrongCoordinator.read. */
  strongRead(itemKey: Uint8Array, n: number): Promise<StrongResult<StrongVersioned | undefined>>;
  /**
   * StrongCoordinator.fence: before a strong table's keys are scanned on an old acceptor, its
   * ring fence is raised to the transition's version, so no proposer of an older ring stores a
   * key there after the scan passed it (paxos/README.md, "Ring-version fencing"). Without it a
   * node left on the old ring can write to the old set unseen by the transfer.
   */
  strongFence?(node: NodeId, ringVersion: number): Promise<boolean>;
  /**
   * Whether a node is believed alive (membership's isUp). With it, a partition does not wait for
   * an old replica that is down and that the new ring no longer places (a dead node replaced or
   * removed by a plan, "departed"): ceil(n/2) of the others suffice (oldReplicasToRead), and
   * waiting would keep the ring in transition for good (n = 2: a majority of two is both).
   * Without it, every partition waits for a strict majority of its old list.
   */
  isUp?(node: NodeId): boolean;
  /**
   * A confirmed failure (membership "down", not merely "suspect"). With it, a partition whose
   * values only departed nodes may hold (oldReplicasToRead `lost`) goes on without them only once
   * each of them is down, so a leaving or replaced node that is merely slow is waited for.
   */
  isDown?(node: NodeId): boolean;
  /**
   * This node's acceptor. With it (and `isUp`), a strong key whose old acceptors include a
   * departed node is read by a coordinator of the transfer's own, whose placement narrows the
   * old set (transferStrongPlacement) and which never collects tombstones; without it, such keys
   * go through `strongRead` and its majority of the whole old set (n <= 2: never).
   */
  strongAcceptors?: AcceptorService;
  /**
   * Told once per ring version and table when a gained partition's old list lost more replicas
   * than its values can survive (oldReplicasToRead `lost`: an n = 1 table whose node was replaced
   * dead, only after a forced commit): the ring settles without what only they held.
   */
  onLoss?(message: string): void;
  /** Publishes a ring this node computed as leader (the settled ring): Membership.publish. */
  publishRing(ring: RingState): void | Promise<PublishedRing>;
  intervalMs?: number;
  requestTimeoutMs?: number;
  /** Entries per page asked of a source (at most replica/sibling-scan scanEntriesMax). */
  pageEntriesMax?: number;
  strongAttemptsMax?: number;
}

export const ownershipTransferDefaults = Object.freeze({ intervalMs: 1000, requestTimeoutMs: 2000, pageEntriesMax: 256, strongAttemptsMax: 5 });

/**
 * A page of one table's items after `afterKey`, by bounds under the items namespace's one-byte
 * prefix rather than by the table's prefix: storage/byte-order.ts prefixEnd writes into a
 * Buffer's memory when slice() gives a view (msgpackr decodes bytes as Buffers), so a remote
 * scan by a longer prefix comes back empty (reported; the bounds work either way).
 */
export function tableRange(tableId: number, afterKey: Uint8Array | undefined, limit: number): ScanRange {
  const table = tableItemsPrefix(tableId);
  const high = prefixEnd(table);
  assert(high !== undefined, "a table prefix has an end");
  const low = afterKey === undefined ? { key: table, inclusive: true } : { key: afterKey, inclusive: false };
  return { prefix: table.slice(0, 1), low, high: { key: high, inclusive: false }, reverse: false, limit };
}

/** The greatest n over the tables, at least 1: what the plan and the leader measure moves by. */
export function nMaxOf(tables: readonly OwnershipTable[]): number {
  return tables.reduce((max, table) => Math.max(max, table.n), 1);
}

/** Loss messages kept (OwnershipTransfer.losses). */
export const lossesMax = 64;

/** A gained partition of a table whose values only departed nodes may have held. */
interface LostPartition {
  table: OwnershipTable;
  partition: number;
  departed: NodeId[];
}

type Settings = Required<Pick<OwnershipTransferOptions, "intervalMs" | "requestTimeoutMs" | "pageEntriesMax" | "strongAttemptsMax">>;

export class OwnershipTransfer {
  private readonly settings: Settings;
  private readonly leaderPart: OwnershipLeader;
  private timer: TimerHandle | undefined;
  private running = false;
  private stopped = false;
  private busy = false;
  /** The last completed tick's error, for logs and tests. */
  lastProblem: string | undefined;
  /** Losses reported (onLoss), newest last, at most lossesMax: `${ringVersion}:${tableId}` -> message. */
  readonly losses = new Map<string, string>();
  /** The transfer's reader for keys with a departed old acceptor (`strongAcceptors`). */
  private readonly relaxedStrong: StrongCoordinator | undefined;

  constructor(private readonly options: OwnershipTransferOptions) {
    const d = ownershipTransferDefaults;
    this.settings = {
      intervalMs: options.intervalMs ?? d.intervalMs,
      requestTimeoutMs: options.requestTimeoutMs ?? d.requestTimeoutMs,
      pageEntriesMax: options.pageEntriesMax ?? d.pageEntriesMax,
      strongAttemptsMax: options.strongAttemptsMax ?? d.strongAttemptsMax,
    };
    for (const [name, value] of Object.entries(this.settings)) assert(Number.isSafeInteger(value) && value > 0, `${name} must be a positive integer, got ${value}`);
    assert(options.runtime.network !== undefined, "ownership transfer needs the runtime's network");
    this.leaderPart = new OwnershipLeader({ publishRing: (ring) => options.publishRing(ring) });
    if (options.strongAcceptors !== undefined && options.isUp !== undefined) {
      const placement = transferStrongPlacement(() => options.ring(), (id, ring) => this.departed(id, ring));
      this.relaxedStrong = new StrongCoordinator({ runtime: options.runtime, acceptors: options.strongAcceptors, placement, requestTimeoutMs: this.settings.requestTimeoutMs, collectTombstones: false });
    }
  }

  /** Down and no longer placed by `ring`: a dead node a plan replaced or removed. */
  private departed(id: NodeId, ring: RingState): boolean {
    const isUp = this.options.isUp;
    return isUp !== undefined && id !== this.options.runtime.nodeId && !isUp(id) && !ring.members.some((m) => m.id === id);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    this.stopped = true;
    if (this.timer !== undefined) this.options.runtime.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Serves "handoff." messages (the leader's side: a node reports its transfers done). */
  handle(from: NodeId, message: unknown): undefined {
    const done = parseTransferDone(message);
    const ring = this.options.ring();
    if (done === undefined || ring === undefined || this.options.leader() !== this.options.runtime.nodeId) return undefined;
    const tables = this.options.tables();
    // A receiver that does not know one of our tables has not pulled it: not done yet.
    if (done.tables !== undefined && !tables.every((table) => done.tables!.includes(table.id))) return undefined;
    this.leaderPart.reported(ring, from, done.ringVersion, done.ringHash, nMaxOf(tables));
    return undefined;
  }

  /** One step: lead, transfer, report. Public so tests can drive it without timers. */
  async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      await this.step();
      this.lastProblem = undefined;
    } catch (error) {
      this.lastProblem = error instanceof Error ? error.message : String(error);
    } finally {
      this.busy = false;
    }
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = this.options.runtime.timers.setTimeout(() => {
      void this.tick().then(() => this.schedule());
    }, this.settings.intervalMs);
  }

  private async step(): Promise<void> {
    const ring = this.options.ring();
    if (ring?.previous === undefined) return;
    const self = this.options.runtime.nodeId;
    const tables = this.options.tables();
    const nMax = nMaxOf(tables);
    if (this.options.leader() === self) this.leaderPart.check(ring, nMax);
    const incoming = incomingPartitions(ring, self, nMax);
    if (incoming.length === 0) return;
    const progress = loadProgress(this.options.runtime.storage, ring.version);
    // Once done, only a table that is not filled is scanned again: one this node learned since
    // (its catalog caught up), including one whose first scans a failing source cut short; a
    // source that failed for a table already filled is not asked again. (Judging by "some scan of
    // the table completed" instead stranded a table learned after `done` whose first pass missed
    // a source, say one still on the older ring answering "ring-behind": the node never asked
    // that source again, never reported, and the ring never settled; issue 6, the leave plus
    // replace hang.)
    const pending = progress.done ? tables.filter((table) => !this.tableFilled(ring, incoming, table, progress, [])) : tables;
    if (pending.length > 0) await this.transfer(ring, incoming, pending, progress);
    if (!this.filled(ring, incoming, tables, progress)) return;
    if (!progress.done) {
      progress.done = true;
      progress.cursor = null;
      await saveProgress(this.options.runtime.storage, progress);
    }
    this.report(ring, nMax, tables);
  }

  private report(ring: RingState, nMax: number, tables: readonly OwnershipTable[]): void {
    const self = this.options.runtime.nodeId;
    const leader = this.options.leader();
    if (leader === undefined) return;
    if (leader === self) this.leaderPart.reported(ring, self, ring.version, ringHash(ring), nMax);
    else this.options.runtime.network!.send(leader, transferDoneMessage(ring.version, tables.map((table) => table.id), ringHash(ring)));
  }

  /** Every (table, source) scan not finished yet, in order; a failing source is skipped until next time. */
  private async transfer(ring: RingState, incoming: readonly IncomingPartition[], tables: readonly OwnershipTable[], progress: TransferProgress): Promise<void> {
    const self = this.options.runtime.nodeId;
    for (const table of tables) {
      const gained = this.gainedOf(ring, incoming, table);
      const sources = [...new Set([...gained.values()].flat())].filter((id) => id !== self && !this.departed(id, ring)).sort();
      for (const source of sources) {
        if (this.stopped) return;
        if (progress.completed.includes(scanId(table.id, source))) continue;
        if (table.strong && this.options.strongFence !== undefined && !(await this.options.strongFence(source, ring.version))) continue;
        await this.scanSource(table, source, gained, progress);
      }
    }
  }

  /** The gained partitions of `table`, each with its old preference list for the table's n. */
  private gainedOf(ring: RingState, incoming: readonly IncomingPartition[], table: OwnershipTable): Map<number, NodeId[]> {
    const before = previousRing(ring)!;
    return new Map(incoming.map(({ partition }) => [partition, preferenceList(before, partition, table.n)]));
  }

  private async scanSource(table: OwnershipTable, source: NodeId, gained: Map<number, NodeId[]>, progress: TransferProgress): Promise<void> {
    const network = this.options.runtime.network!;
    const cursor = progress.cursor;
    let afterKey = cursor !== null && cursor.tableId === table.id && cursor.source === source ? cursor.afterKey : undefined;
    for (;;) {
      const range = tableRange(table.id, afterKey, this.settings.pageEntriesMax);
      // With this node's ring version: a source on an older ring refuses ("ring-behind") until it
      // adopted it, then waits for the writes it admitted before (replica/ring-fence.ts).
      const ringVersion = this.options.ring()?.version;
      const answer = await network.request<{ ok?: boolean; entries?: unknown; exhausted?: unknown }>(source, scanMessage("replica.list", range, table.strong ? "accepted" : "siblings", ringVersion), { timeoutMs: this.settings.requestTimeoutMs });
      if (!answer.ok || answer.reply.ok !== true || !Array.isArray(answer.reply.entries)) return;
      const entries = answer.reply.entries as unknown[];
      const moved = await this.applyPage(table, source, gained, entries);
      if (!moved.ok) return;
      if (moved.lastKey !== undefined) afterKey = moved.lastKey;
      const exhausted = answer.reply.exhausted === true || entries.length === 0;
      if (exhausted) progress.completed.push(scanId(table.id, source));
      progress.cursor = exhausted || afterKey === undefined ? null : { tableId: table.id, source, afterKey };
      await saveProgress(this.options.runtime.storage, progress);
      if (exhausted) return;
    }
  }

  /** Merges (eventual) or re-reads (strong) the page's keys that fall in partitions this node gains from `source`. */
  private async applyPage(table: OwnershipTable, source: NodeId, gained: Map<number, NodeId[]>, entries: readonly unknown[]): Promise<{ ok: boolean; lastKey?: Uint8Array }> {
    const ring = this.options.ring();
    let lastKey: Uint8Array | undefined;
    const strongKeys: Uint8Array[] = [];
    for (const entry of entries) {
      if (!Array.isArray(entry) || !(entry[0] instanceof Uint8Array)) return { ok: false };
      const key = entry[0];
      lastKey = key;
      if (ring === undefined) return { ok: false };
      const sources = gained.get(partitionOf(decodeItemKey(key).partitionKey, ring.partitionCount));
      if (sources === undefined || !sources.includes(source)) continue;
      if (table.strong) {
        strongKeys.push(key);
        continue;
      }
      const parsed = dvvset.parse(entry[1], isSibling);
      if (!parsed.ok) return { ok: false };
      const merged = await this.options.merge(key, parsed.set, { lww: table.lww });
      // "ring": this node's ring does not place it for the key at the table's n (a partition
      // gained at a larger n of another table): not a key it keeps (replica/ring-fence.ts).
      if (!merged.ok && merged.error !== "ring") return { ok: false };
    }
    if (strongKeys.length > 0) {
      const read = await transferStrongKeys(strongKeys, { read: (key, n) => this.strongRead(key, n), n: table.n, attemptsMax: this.settings.strongAttemptsMax });
      if (!read.ok) return { ok: false };
    }
    return lastKey === undefined ? { ok: true } : { ok: true, lastKey };
  }

  /** A strong key's transfer read: narrowed old set when one of its old acceptors departed. */
  private strongRead(key: Uint8Array, n: number): Promise<StrongResult<StrongVersioned | undefined>> {
    const ring = this.options.ring();
    if (this.relaxedStrong !== undefined && ring !== undefined) {
      const before = previousRing(ring);
      const old = before === undefined ? [] : preferenceList(before, partitionOf(decodeItemKey(key).partitionKey, ring.partitionCount), n);
      if (old.some((id) => this.departed(id, ring))) return this.relaxedStrong.read(key, n);
    }
    return this.options.strongRead(key, n);
  }

  /**
   * Whether every gained partition of every table had enough of its old list scanned (this node
   * counts when it was one): a strict majority, or ceil(n/2) of the others when some departed
   * (oldReplicasToRead, the same rule for eventual and strong tables).
   */
  private filled(ring: RingState, incoming: readonly IncomingPartition[], tables: readonly OwnershipTable[], progress: TransferProgress): boolean {
    const lost: LostPartition[] = [];
    for (const table of tables) if (!this.tableFilled(ring, incoming, table, progress, lost)) return false;
    for (const { table, partition, departed } of lost) this.reportLoss(ring, table, partition, departed);
    return true;
  }

  /** `filled` for one table; the partitions it gives up on (only departed nodes held them) are added to `lost`. */
  private tableFilled(ring: RingState, incoming: readonly IncomingPartition[], table: OwnershipTable, progress: TransferProgress, lost: LostPartition[]): boolean {
    const self = this.options.runtime.nodeId;
    for (const [partition, sources] of this.gainedOf(ring, incoming, table)) {
      const old = oldReplicasToRead(sources, (id) => this.departed(id, ring));
      const scanned = old.live.filter((id) => id === self || progress.completed.includes(scanId(table.id, id))).length;
      if (scanned < old.needed) return false;
      if (!old.lost) continue;
      const gone = sources.filter((id) => !old.live.includes(id));
      if (this.options.isDown !== undefined && !gone.every((id) => this.options.isDown!(id))) return false;
      lost.push({ table, partition, departed: gone });
    }
    return true;
  }

  private reportLoss(ring: RingState, table: OwnershipTable, partition: number, departed: readonly NodeId[]): void {
    const id = `${ring.version}:${table.id}`;
    if (this.losses.has(id)) return;
    const message = `ring ${ring.version}: table ${table.id} (n=${table.n}) settles without what only ${departed.join(", ")} held (down and replaced or removed), first in partition ${partition}`;
    if (this.losses.size >= lossesMax) this.losses.delete(this.losses.keys().next().value!);
    this.losses.set(id, message);
    this.options.onLoss?.(message);
  }
}
