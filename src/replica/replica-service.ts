import type { HintStore } from "../handoff/hint-store.js";
import type { NodeId } from "../runtime/network.js";
import type { Clock } from "../runtime/runtime.js";
import { decodeExpiryIndexKey, expiryIndexBound } from "../storage/keyspace.js";
import type { Bytes, StorageEngine, WriteOp, WriteOptions } from "../storage/storage-engine.js";
import { decodeItemKey, itemKeyTableId } from "../storage/item-key.js";
import { STORAGE_KEY_BYTES_MAX } from "../storage/write-ops.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import type { DottedVersionVectorSet } from "../versioning/dotted-version-vector-set.js";
import type { HybridLogicalClock } from "../versioning/hybrid-logical-clock.js";
import { compareSiblingsForLww, isSibling, type Sibling } from "../versioning/sibling.js";
import { mergeVersionVectors, type Dot, type VersionVector } from "../versioning/version-vector.js";
import type { ActorEpoch } from "./actor-epoch.js";
import type { HlcFloor } from "./hlc-floor.js";
import { defaultKeyLocksOptions, KeyLocks, type KeyLocksOptions } from "./key-locks.js";
import { mergeBatchItemsMax } from "./merge-batch.js";
import { parseScanMessage } from "./replica-messages.js";
import { ringBehindOf, ringNewerOf, ringRefusalOf, unplacedRefusalOf, type ReplicaRingFence, type RingBehind, type RingRefusal } from "./ring-fence.js";
import { decodeSiblingRecord, decodeSiblingRecordIfAny, encodeSiblingRecord } from "./sibling-record.js";
import { expiryIndexOps, isExpiredAt } from "./sibling-expiry.js";
import { decodeTombstoneIndexKey, tombstoneIndexBound, tombstoneIndexOps } from "./tombstone-index.js";
import { scanRecords, scanSets, type ScanPage, type ScanRange } from "./sibling-scan.js";
import { decodeAcceptedValue, isAcceptorRecord } from "../paxos/acceptor-record.js";
import type { StrongVersioned } from "../paxos/strong-coordinator.js";

/**
 * What a node does for the keys it holds on the eventual path (Dynamo paper, sections 4.4 and
 * 4.5): keep each key's dotted version vector set of siblings, add the coordinator's event to
 * it, and sync in the versions other nodes send (replication, read repair, handed-back hints).
 * A fallback (section 4.6) keeps what it receives for a down primary in the HintStore instead.
 *
 * Every read-modify-write of one key runs under that key's lock (storage reads are synchronous
 * but writes commit later, so two unlocked updates could both start from the old set and the
 * second would drop the first's dot). Writes are durable before they are acknowledged (a
 * replica's acknowledgement counts toward w and dw); the coordinator's own write may answer
 * once issued (`early`, with a per-incarnation actor, actor-epoch.ts: dvvset.update may never
 * reuse a dot, and a crash that loses the write also retires the actor that issued it). Every replacement of a set keeps the
 * expiry index (sibling-expiry.ts) in the same atomic write, and a write stamped by this
 * node's clock carries the HLC floor (hlc-floor.ts) when one is given.
 *
 * Tombstone GC (DESIGN.md: "collected only when every replica has them";
 * coordinator/tombstone-reaper.ts): every tombstone-only set has an entry in the tombstone
 * index (tombstone-index.ts), written with it; `reap` removes a key only while its stored set
 * is exactly the tombstone set GC found on every primary that holds the key. Removing a key
 * forgets its history, so a later write must not reuse a dot a stale replica still remembers
 * as superseded (the dot-reuse hazard Riak calls KV679): with
 * `freshCounterBase`, the first dot a coordinator issues for a key it holds nothing of starts
 * above that base (derived from its HLC, which never goes back), not at 1.
 *
 * Messages (plain data, so they cross the network as MessagePack):
 *   { type: "replica.fetch", key, hintFor, ringVersion? } -> { ok: true, set: set | null }
 *   { type: "replica.fetch", key, hintFor: null, record: true, ringVersion? } -> { ok: true, record: bytes | null }
 *                                                  | { ok: false, error: "ring", ringVersion, message } (ring-fence.ts)
 *   { type: "replica.merge", key, set, hintFor, lww, ringVersion?, n? } -> { ok: true, durable: true } | { ok: false, error }
 *                                                  | { ok: false, error: "ring", ringVersion, message } (ring-fence.ts)
 *   { type: "replica.merges", merges: [{ key, set, hintFor, lww, ringVersion?, n? }] (1..mergeBatchItemsMax)
 *                                                  -> { ok: true, replies: [what each "replica.merge" answers] } (merge-batch.ts)
 *   { type: "replica.list" | "replica.query", prefix, low, high, reverse, limit, ringVersion?, placedRingVersion?, n? }
 *                                                  -> { ok: true, entries: [key, set][], exhausted }
 *                                                  | { ok: false, error: "ring-behind", ringVersion, message }
 *                                                  | { ok: false, error: "ring", ringVersion, message } (placedRingVersion; ring-fence.ts)
 *   { type: "replica.reap", key, set }             -> { ok: true, reaped: boolean }
 *   { type: "replica.tombstones", keys, what: "hints" | "sets", departures? }
 *                                                  -> { ok: true, results: (boolean | set | null)[], departures? }
 *   { type: "replica.departures", departures }    -> { ok: true, departures }
 * `hintFor` names the primary a fallback stands in for, or null on a primary.
 */
export interface ReplicaServiceOptions {
  nodeId: NodeId;
  storage: StorageEngine;
  hints: HintStore<Sibling>;
  /** Siblings one key may hold; a coordinated write beyond it is refused (limits.ts siblingsMax). */
  siblingsMax: number;
  locks?: KeyLocksOptions;
  /** Carried by every write this node stamps, so its clock never goes back across a restart. */
  hlcFloor?: HlcFloor;
  /** Wall clock and HLC for the expiry sweep (which stamps its tombstones); needed by sweepExpired. */
  clock?: Clock;
  hlc?: HybridLogicalClock;
  /** The least counter of the first dot for a key this node holds nothing of (see above). */
  freshCounterBase?: () => number;
  /**
   * The per-incarnation actor this node coordinates under (actor-epoch.ts). Without it the
   * actor is `nodeId` and a coordinated write is always durable here before it is answered;
   * with it, `coordinateWrite(..., { early: true })` may answer once the write is issued.
   */
  actorEpoch?: ActorEpoch;
  /** Whether a table id was dropped: writes to it are refused so nothing lands after its purge. */
  isTableDropped?: (tableId: number) => boolean;
  /** Reaped tombstones remembered (see `reap`); default reapedMemoryDefaults. */
  reapedMemory?: { entriesMax: number; ms: number };
  /** Ring-version fencing of writes and transfer scans (ring-fence.ts); without it nothing is fenced. */
  ringFence?: ReplicaRingFence;
  /**
   * Tombstone GC's departure records (coordinator/tombstone-reaper-departures.ts), exchanged in
   * the hints check and pushed by a leaver that handed everything on ("replica.departures").
   */
  departures?: { wire(): unknown; merge(value: unknown): unknown };
  /**
   * True while this node left the ring and has not handed everything on yet (its own departure
   * is pending: hints or partition data left): it then answers GC's hints check "held" for
   * every key, so nothing is collected until it finished (tombstone-reaper-departures.ts).
   */
  leftUnclean?: () => boolean;
}

/**
 * How many reaped tombstones a replica remembers and for how long: long enough for the other
 * primaries' reaps of the same key to land (one GC step) and for a read repair, exchange or hint
 * in flight to arrive; bounded so a mass delete cannot grow it (the oldest are forgotten first).
 */
export const reapedMemoryDefaults = Object.freeze({ entriesMax: 10_000, ms: 5 * 60_000 });

export interface ConflictOptions {
  /** Last writer wins (table `conflicts: "lww"`): keep only the highest timestamp. */
  lww: boolean;
}

export type CoordinateWriteResult =
  | {
      ok: true;
      set: DottedVersionVectorSet<Sibling>;
      dot: Dot;
      before: DottedVersionVectorSet<Sibling> | undefined;
      /** Resolves once this replica's write is durable (already, unless answered `early`); rejects if it failed. */
      durable: Promise<void>;
    }
  | { ok: false; error: "siblings-full" | "overloaded" | "bad-request"; message: string };

export type MergeResult = { ok: true; durable: true } | { ok: false; error: string };

export interface FetchMessage {
  type: "replica.fetch";
  key: Uint8Array;
  hintFor: NodeId | null;
  /** Answer a primary's fetch with the stored record's bytes (`record`) instead of the set; older nodes ignore it. */
  record?: boolean;
  /** The version of the ring the coordinator placed the key on (ring-fence.ts); absent from older senders. */
  ringVersion?: number;
  /** The n it placed with, when given (a fetch sends none: the table's n here decides). */
  n?: number;
}

export interface MergeMessage {
  type: "replica.merge";
  key: Uint8Array;
  set: DottedVersionVectorSet<Sibling>;
  hintFor: NodeId | null;
  lww: boolean;
  /** The version of the ring the sender placed the key on (ring-fence.ts); absent from older senders. */
  ringVersion?: number;
  /** The n the sender placed the key with (ring-fence.ts). */
  n?: number;
}

/** One merge of a "replica.merges" message (merge-batch.ts): a "replica.merge" without its type. */
export type MergeItem = Omit<MergeMessage, "type">;

/** Several merges from one sender, answered { ok: true, replies } with one reply per merge, in order. */
export interface MergeBatchMessage {
  type: "replica.merges";
  merges: MergeItem[];
}

/** What one merge is answered. */
export type MergeAnswer = MergeResult | RingRefusal | { ok: false; error: string };

export interface ReapMessage {
  type: "replica.reap";
  key: Uint8Array;
  set: DottedVersionVectorSet<Sibling>;
}

/** Tombstone GC asks a node about these keys: its hints for them, or its stored sets (results in key order). */
export interface TombstoneCheckMessage {
  type: "replica.tombstones";
  keys: Uint8Array[];
  what: "hints" | "sets";
  /** The collector's departure records (with "hints"); the reply carries the receiver's. */
  departures?: unknown;
}

/** Departure records one message may carry (membership's membersMax bounds the nodes a record names). */
export const departuresMax = 256;

/** A node's departure records (coordinator/tombstone-reaper-departures.ts): merged, and answered with the receiver's. */
export interface DeparturesMessage {
  type: "replica.departures";
  departures: unknown;
}

/** Keys one "replica.tombstones" message may ask about. */
export const tombstoneCheckKeysMax = 256;

export const replicaMessagePrefix = "replica.";

const durably: WriteOptions = Object.freeze({ durable: true });

const alreadyDurable: Promise<void> = Promise.resolve();

const mergedDurably: MergeResult = Object.freeze({ ok: true, durable: true });

const tombstoneContentType = "application/octet-stream";

export class ReplicaService {
  private readonly locks: KeyLocks;
  /** Recently reaped keys: lock name -> the tombstone set removed and when it is forgotten (insertion order = age). */
  private readonly reaped = new Map<string, { set: DottedVersionVectorSet<Sibling>; untilMs: number }>();
  /** Item writes admitted and not finished yet (bounded by the key locks' waiters), for `drainWrites`. */
  private readonly writing = new Set<Promise<unknown>>();

  constructor(private readonly options: ReplicaServiceOptions) {
    this.locks = new KeyLocks(options.locks ?? defaultKeyLocksOptions);
  }

  /** The key's stored set, or undefined when this node holds nothing for it. */
  fetch(itemKey: Uint8Array): DottedVersionVectorSet<Sibling> | undefined {
    const bytes = this.options.storage.get(itemKey);
    return bytes === undefined ? undefined : decodeSiblingRecord(bytes);
  }

  /** The key's stored record as bytes, undecoded (sibling-record.ts decodes it), or undefined. */
  fetchRecord(itemKey: Uint8Array): Uint8Array | undefined {
    return this.options.storage.get(itemKey);
  }

  /**
   * The coordinator's local event (paper, section 4.4): the proposal `sibling` with the causal
   * `context` of the client's read (undefined: a blind write, concurrent with everything) gets
   * the next dot of this node's actor, supersedes exactly what the context saw, and is stored
   * durably. `before` is what this replica held before the write.
   *
   * `early` (with an `actorEpoch`): answer once the write is issued, before it is durable, so
   * the coordinator replicates in parallel with its own commit (`durable` tells when that
   * landed). Safe against dot reuse because a crash moves the node to a new actor
   * (actor-epoch.ts) and, within an incarnation, the key's lock is held until the write is
   * durable (the next write of the key reads the stored dot); a write that fails after
   * answering renews the epoch before releasing the lock. Not early while the HLC floor that
   * covers `sibling.timestamp` is not durable yet (hlc-floor.ts: a copy elsewhere must never
   * carry a timestamp this node could issue again after a crash): about once per floor lease.
   */
  async coordinateWrite(itemKey: Uint8Array, sibling: Sibling, context: VersionVector | undefined, conflicts: ConflictOptions, how?: { early?: boolean }): Promise<CoordinateWriteResult> {
    if (this.dropped(itemKey)) return { ok: false, error: "bad-request", message: "the table was dropped" };
    const epoch = this.options.actorEpoch;
    const epochProblem = await this.epochReady(epoch);
    if (epochProblem !== undefined) return epochProblem;
    const name = lockName(itemKey);
    // A free key is taken at once; only a held one waits (a promise and a turn of the microtask queue less per write).
    if (!this.locks.tryAcquireOne(name) && !(await this.locks.acquire([name]))) return { ok: false, error: "overloaded", message: "too many writes waiting on one key" };
    let held = true;
    const release = (): void => {
      if (held) this.locks.release([name]);
      held = false;
    };
    try {
      // A write of this key that failed after answering may have renewed the epoch meanwhile.
      const renewed = await this.epochReady(epoch);
      if (renewed !== undefined) {
        release();
        return renewed;
      }
      // From here to `tracked` nothing awaits: a write past this check is one `stopCoordinating` drains.
      if (epoch?.stopped === true) {
        release();
        return { ok: false, error: "overloaded", message: "this node is stopping; try another node" };
      }
      const actor = epoch?.actorId ?? this.options.nodeId;
      const before = this.fetch(itemKey);
      const seen = this.contextFor(before, context, actor);
      const proposal = seen === undefined ? dvvset.newValue(sibling) : dvvset.newWithContext(seen, sibling);
      const updated = dvvset.update(proposal, before ?? dvvset.empty<Sibling>(), actor);
      const stored = conflicts.lww ? dvvset.lww(updated, compareSiblingsForLww) : updated;
      const count = dvvset.size(stored);
      if (count > this.options.siblingsMax) {
        release();
        return { ok: false, error: "siblings-full", message: `the write would keep ${count} siblings; the limit is ${this.options.siblingsMax}` };
      }
      const counter = updated.entries.find((entry) => entry[0] === actor)![1];
      const early = how?.early === true && epoch !== undefined;
      const written = this.replace(itemKey, before, stored, { stamped: true });
      const floor = this.options.hlcFloor;
      // Decided after `replace`: the floor it carried (when the clock reached the old one) is not durable yet.
      const answerEarly = early && (floor === undefined || floor.covers(sibling.timestamp));
      const durable = written.then(release, (error: unknown) => {
        // The dot may have reached other replicas without this node's copy: never issue it again.
        if (answerEarly) epoch.renew();
        release();
        throw error;
      });
      void this.tracked(durable);
      if (!answerEarly) {
        await durable;
        return { ok: true, set: stored, dot: [actor, counter] as const, before, durable: alreadyDurable };
      }
      durable.catch(() => undefined); // the caller reads the outcome from `durable`
      return { ok: true, set: stored, dot: [actor, counter] as const, before, durable };
    } catch (error) {
      release();
      throw error;
    }
  }

  /** Undefined when the actor epoch is durable (or there is none); else waits for it, or the refusal when its write failed. */
  private async epochReady(epoch: ActorEpoch | undefined): Promise<{ ok: false; error: "overloaded"; message: string } | undefined> {
    const pending = epoch?.ready();
    if (pending === undefined) return undefined;
    try {
      await pending;
      return undefined;
    } catch (error) {
      return { ok: false, error: "overloaded", message: `this node's actor epoch is not durable yet (${error instanceof Error ? error.message : String(error)}); try again` };
    }
  }

  /**
   * A version from another node (read repair, handoff, anti-entropy): sync it into the local set.
   * With a ring fence, refused ("ring") when this node's ring does not place it for the key
   * (ring-fence.ts unplacedRefusalOf), checked under the key's lock: a partition released after
   * the ring settled without this node is never written again (handoff/partition-release.ts).
   */
  merge(itemKey: Uint8Array, set: DottedVersionVectorSet<Sibling>, conflicts: ConflictOptions): Promise<MergeResult | RingRefusal> {
    return this.mergeInto(itemKey, set, conflicts, true);
  }

  private async mergeInto(itemKey: Uint8Array, set: DottedVersionVectorSet<Sibling>, conflicts: ConflictOptions, placementFenced: boolean): Promise<MergeResult | RingRefusal> {
    // Acknowledged and discarded: the table's items are purged anyway, and a refusal would make
    // a hint for it be handed back again and again.
    if (this.dropped(itemKey)) return { ok: true, durable: true };
    this.observeTimestamps(set);
    const fence = placementFenced ? this.options.ringFence : undefined;
    return this.tracked(this.locked(itemKey, async () => {
      const plan = this.mergePlan(itemKey, set, conflicts, fence);
      if (!Array.isArray(plan)) return plan;
      await this.commit(plan, { stamped: false });
      return mergedDurably;
    }));
  }

  /**
   * Under the key's lock: what syncing `set` into the stored set takes: an answer at once (a
   * refusal, or nothing to write) or the ops that replace the stored set (with its index entries).
   */
  private mergePlan(itemKey: Uint8Array, set: DottedVersionVectorSet<Sibling>, conflicts: ConflictOptions, fence: ReplicaRingFence | undefined): MergeResult | RingRefusal | WriteOp[] {
    const refusal = fence === undefined ? undefined : unplacedRefusalOf(fence, itemKey, this.options.nodeId);
    if (refusal !== undefined) return refusal;
    const local = this.fetch(itemKey);
    if (local === undefined && this.reapedAlready(itemKey, set)) return mergedDurably;
    const synced = local === undefined ? set : dvvset.sync(local, set);
    const stored = conflicts.lww ? dvvset.lww(synced, compareSiblingsForLww) : synced;
    if (local !== undefined && dvvset.equal(local, stored)) return mergedDurably;
    return replaceOps(itemKey, local, stored);
  }

  /**
   * Resolves once every item write (coordinated or merged) admitted before the call finished,
   * whatever its outcome. A transfer scan waits for it (ring-fence.ts): a write admitted under
   * an older ring is then on disk before the scan reads past its key.
   */
  async drainWrites(): Promise<void> {
    if (this.writing.size > 0) await Promise.allSettled([...this.writing]);
  }

  /**
   * A clean stop of the coordinator side (actor-epoch.ts `stop`): refuses new coordinated writes,
   * waits for every write in flight to finish, then keeps the actor epoch for the next start.
   * Call once no request can reach this replica any more (the node's network and API closed).
   */
  async stopCoordinating(): Promise<void> {
    const epoch = this.options.actorEpoch;
    if (epoch === undefined || epoch.stopped) return;
    await epoch.stop(() => this.drainWrites());
  }

  private tracked<R>(work: Promise<R>): Promise<R> {
    this.writing.add(work);
    const done = (): void => void this.writing.delete(work);
    work.then(done, done);
    return work;
  }

  /**
   * Tombstone GC: removes the key when its stored set is still exactly `set` and holds only
   * tombstones; anything written in between (a new dot) keeps it. True when it was removed.
   *
   * The replica then remembers the removed set for a while (`reapedMemory`), and `merge` of a
   * key it holds nothing of drops a set of only tombstones that adds nothing to the remembered
   * one: the reaps reach the primaries one by one, and without this an exchange, a read repair
   * or a hint from a primary not reaped yet copied the tombstone straight back, so GC never
   * finished (anti-entropy/README.md, "Tombstones"). Dropping it loses nothing: holding nothing
   * reads the same as holding that tombstone. A set with anything new (a live value, an unseen
   * dot) is stored as ever.
   */
  async reap(itemKey: Uint8Array, set: DottedVersionVectorSet<Sibling>): Promise<boolean> {
    const result = await this.locked(itemKey, async () => {
      const local = this.fetch(itemKey);
      if (local === undefined || !dvvset.equal(local, set) || !onlyTombstones(local)) return false;
      await this.options.storage.write([{ type: "delete", key: itemKey }, ...indexOps(itemKey, local, undefined)], { durable: true });
      this.rememberReaped(itemKey, local);
      return true;
    });
    return result === true;
  }

  private rememberReaped(itemKey: Uint8Array, set: DottedVersionVectorSet<Sibling>): void {
    const memory = this.options.reapedMemory ?? reapedMemoryDefaults;
    if (memory.entriesMax <= 0) return;
    const name = lockName(itemKey);
    this.reaped.delete(name);
    this.reaped.set(name, { set, untilMs: (this.options.clock?.nowMs() ?? 0) + memory.ms });
    while (this.reaped.size > memory.entriesMax) this.reaped.delete(this.reaped.keys().next().value!);
  }

  /** True when `set` holds only tombstones and adds nothing to a tombstone set this replica reaped recently. */
  private reapedAlready(itemKey: Uint8Array, set: DottedVersionVectorSet<Sibling>): boolean {
    if (this.reaped.size === 0) return false;
    const name = lockName(itemKey);
    const memory = this.reaped.get(name);
    if (memory === undefined) return false;
    if (this.options.clock !== undefined && this.options.clock.nowMs() > memory.untilMs) {
      this.reaped.delete(name);
      return false;
    }
    return onlyTombstones(set) && dvvset.equal(dvvset.sync(memory.set, set), memory.set);
  }

  /**
   * Tombstone GC's worklist: up to `limit` keys whose stored set holds only tombstones, the
   * newest written before `beforeMs`, in time order, strictly after the index key `after`
   * (a cursor from a previous call). `next` is the cursor to pass on, or null at the end.
   */
  tombstonesDue(beforeMs: number, limit: number, after?: Bytes): { due: { itemKey: Bytes; timeMs: number; set: DottedVersionVectorSet<Sibling> }[]; next: Bytes | null } {
    const start = after === undefined ? tombstoneIndexBound(0) : Uint8Array.from([...after, 0]);
    const due: { itemKey: Bytes; timeMs: number; set: DottedVersionVectorSet<Sibling> }[] = [];
    let last: Bytes | undefined;
    let seen = 0;
    for (const entry of this.options.storage.range({ start, end: tombstoneIndexBound(beforeMs), limit })) {
      seen++;
      last = entry.key;
      const { timeMs, itemKey } = decodeTombstoneIndexKey(entry.key);
      const set = this.fetch(itemKey);
      if (set !== undefined && onlyTombstones(set)) due.push({ itemKey, timeMs, set });
    }
    return { due, next: seen === limit && last !== undefined ? last : null };
  }

  /**
   * Tombstone GC's checks (coordinator/tombstone-reaper.ts), for each key: with "hints",
   * whether this node holds a hint for it for any target (every key, while it left unclean:
   * `leftUnclean`); with "sets", its stored set or null.
   */
  checkTombstones(keys: readonly Uint8Array[], what: "hints" | "sets"): (boolean | DottedVersionVectorSet<Sibling> | null)[] {
    if (what === "sets") return keys.map((key) => this.fetch(key) ?? null);
    if (this.options.leftUnclean?.() === true) return keys.map(() => true);
    const targets = [...this.options.hints.countByTarget()].filter(([, count]) => count > 0).map(([target]) => target);
    return keys.map((key) => {
      const tableId = decodeItemKey(key).tableId;
      return targets.some((target) => this.options.hints.get({ target, tableId, key }) !== undefined);
    });
  }

  /** A bounded range scan of this replica's stored sets (sibling-scan.ts). */
  scan(range: ScanRange): ScanPage {
    return scanSets(this.options.storage, range);
  }

  /** The same scan over a strong table's acceptor records: each key's accepted value (undefined: a tombstone or only a promise). */
  scanAccepted(range: ScanRange): { entries: { key: Bytes; value: StrongVersioned | undefined }[]; exhausted: boolean } {
    const page = scanRecords(this.options.storage, range, (bytes) => (isAcceptorRecord(bytes) ? { value: decodeAcceptedValue(bytes) } : undefined));
    return { entries: page.entries.map(({ key, record }) => ({ key, value: record.value })), exhausted: page.exhausted };
  }

  /**
   * One bounded step of the expiry sweep over the expiry index: a key whose live siblings have
   * all expired becomes a tombstone that keeps its causal context (a new dot of this node over
   * the whole history), never removed outright: a replica that missed the write could
   * otherwise resurrect it. Tombstone GC collects it later. Returns the index entries processed
   * and the keys turned into tombstones.
   */
  async sweepExpired(limit: number): Promise<{ processed: number; expired: number }> {
    const { clock, hlc, storage } = this.options;
    if (clock === undefined || hlc === undefined) throw new Error("the expiry sweep needs the replica's clock and hlc");
    // Its tombstones get dots of this node's actor: only once the actor's epoch is durable.
    if ((await this.epochReady(this.options.actorEpoch)) !== undefined) return { processed: 0, expired: 0 };
    const actor = this.options.actorEpoch?.actorId ?? this.options.nodeId;
    const nowMs = clock.nowMs();
    const due = [...storage.range({ start: expiryIndexBound(0), end: expiryIndexBound(nowMs + 1), limit })].map((entry) => ({ indexKey: entry.key, ...decodeExpiryIndexKey(entry.key) }));
    if (due.length === 0) return { processed: 0, expired: 0 };
    const lockNames = due.map((d) => lockName(d.itemKey));
    if (!(await this.locks.acquire(lockNames))) return { processed: 0, expired: 0 };
    try {
      // Dots are issued below and committed as a tracked write, so a clean stop drains them.
      if (this.options.actorEpoch?.stopped === true) return { processed: 0, expired: 0 };
      const ops: WriteOp[] = [];
      const replaced = new Map<string, DottedVersionVectorSet<Sibling>>();
      for (const d of due) {
        ops.push({ type: "delete", key: d.indexKey });
        const name = lockName(d.itemKey);
        const set = replaced.get(name) ?? this.fetch(d.itemKey);
        if (set === undefined || replaced.has(name) || !allLiveExpired(set, nowMs)) continue;
        const tombstone: Sibling = { value: new Uint8Array(0), contentType: tombstoneContentType, metadata: [], timestamp: hlc.now(), tombstone: true, expiresAtMs: null };
        const stored = dvvset.update(dvvset.newWithContext(dvvset.join(set), tombstone), set, actor);
        replaced.set(name, stored);
        ops.push({ type: "put", key: d.itemKey, value: encodeSiblingRecord(stored) }, ...indexOps(d.itemKey, set, stored));
      }
      await this.tracked(this.commit(ops, { stamped: replaced.size > 0 }));
      return { processed: due.length, expired: replaced.size };
    } finally {
      this.locks.release(lockNames);
    }
  }

  /**
   * One bounded step of removing a dropped table: up to `limit` keys under `prefix`, with their
   * expiry-index entries (a strong table's acceptor records have none). Nobody writes a dropped
   * table's keys (writes to a dropped id are refused), so no locks are needed.
   */
  async purgeStep(prefix: Bytes, limit: number): Promise<number> {
    const ops: WriteOp[] = [];
    let removed = 0;
    for (const entry of this.options.storage.range({ prefix, limit })) {
      ops.push({ type: "delete", key: entry.key }, ...indexOps(entry.key, decodeSiblingRecordIfAny(entry.value), undefined));
      removed++;
    }
    if (ops.length > 0) await this.options.storage.write(ops);
    return removed;
  }

  /** Serves the "replica." messages (a handler that throws reaches the caller as a RemoteFailure). */
  async handle(_from: NodeId, message: unknown): Promise<unknown> {
    const type = (message as { type?: unknown } | null)?.type;
    if (type === "replica.fetch") return this.handleFetch(message as FetchMessage);
    if (type === "replica.merge") return this.handleMerge(message as MergeMessage);
    if (type === "replica.merges") return this.handleMergeBatch(message as MergeBatchMessage);
    if (type === "replica.list" || type === "replica.query") return this.handleScan(message);
    if (type === "replica.reap") return this.handleReap(message as ReapMessage);
    if (type === "replica.tombstones") return this.handleTombstoneCheck(message as TombstoneCheckMessage);
    if (type === "replica.departures") return this.handleDepartures(message as DeparturesMessage);
    return { ok: false, error: `unknown replica message ${String(type)}` };
  }

  private handleFetch(message: FetchMessage): unknown {
    if (!(message.key instanceof Uint8Array)) return { ok: false, error: "fetch: key is not bytes" };
    const fence = this.options.ringFence;
    if (fence !== undefined && message.ringVersion !== undefined) {
      const refusal = ringRefusalOf(fence, message.key, message.hintFor ?? this.options.nodeId, message.ringVersion, message.n, "read");
      if (refusal !== undefined) return refusal;
    }
    if (message.hintFor === null) {
      // `record`: the stored bytes as they are (the coordinator compares them with its own before decoding anything).
      if (message.record === true) return { ok: true, record: this.fetchRecord(message.key) ?? null };
      return { ok: true, set: this.fetch(message.key) ?? null };
    }
    const hint = this.options.hints.get({ target: message.hintFor, tableId: decodeItemKey(message.key).tableId, key: message.key });
    return { ok: true, set: hint ?? null };
  }

  private handleMerge(message: MergeMessage): Promise<MergeAnswer> | MergeAnswer {
    const admitted = this.admitMerge(message, "merge");
    if ("ok" in admitted) return admitted;
    if (admitted.hintFor !== undefined) return this.addHint(admitted.hintFor, message.key, admitted.set);
    return this.mergeInto(message.key, admitted.set, { lww: message.lww === true }, admitted.placementFenced);
  }

  /**
   * A merge from the wire, checked: an answer at once (malformed, or refused by the ring fence)
   * or what to do with its set: keep it as a hint for `hintFor`, or sync it into this node's
   * copy (`placementFenced`: check placement under the key's lock, for a merge without a ring version).
   */
  private admitMerge(message: MergeItem, what: string): MergeAnswer | { set: DottedVersionVectorSet<Sibling>; hintFor?: NodeId; placementFenced: boolean } {
    if (!(message.key instanceof Uint8Array)) return { ok: false, error: `${what}: key is not bytes` };
    const parsed = dvvset.parse(message.set, isSibling);
    if (!parsed.ok) return { ok: false, error: `${what}: ${parsed.error}` };
    const fence = this.options.ringFence;
    // With a version: the coordinator's placement is checked against this node's ring (ring-fence.ts);
    // without one (a hint handed back, a draining node's hint): placement alone decides.
    const versioned = typeof message.ringVersion === "number";
    if (fence !== undefined) {
      const target = message.hintFor ?? this.options.nodeId;
      const refusal = versioned ? ringRefusalOf(fence, message.key, target, message.ringVersion, message.n) : target === this.options.nodeId ? undefined : unplacedRefusalOf(fence, message.key, target);
      if (refusal !== undefined) return refusal;
    }
    if (message.hintFor === null || message.hintFor === this.options.nodeId) return { set: parsed.set, placementFenced: !versioned };
    return { set: parsed.set, hintFor: message.hintFor, placementFenced: false };
  }

  private async addHint(target: NodeId, itemKey: Uint8Array, set: DottedVersionVectorSet<Sibling>): Promise<MergeAnswer> {
    const added = await this.options.hints.add({ target, tableId: decodeItemKey(itemKey).tableId, key: itemKey, set }, { durable: true });
    return added.ok ? mergedDurably : { ok: false, error: added.error };
  }

  /**
   * "replica.merges": several merges from one coordinator (merge-batch.ts), answered one reply
   * per merge in order, each what "replica.merge" would have answered. Every merge whose key's
   * lock is free is planned at once and all of them are written as ONE storage batch (one
   * transaction, one durable commit, one anti-entropy plan); a merge whose key is held (a write
   * of it in flight, or the same key earlier in the batch) or that is kept as a hint takes the
   * single path. A merge that fails its checks or its plan fails alone; a failed batch write
   * fails the merges it carried; nothing is answered before the batch is durable.
   */
  async mergeMany(merges: readonly MergeItem[]): Promise<MergeAnswer[]> {
    const replies: MergeAnswer[] = new Array<MergeAnswer>(merges.length);
    const single: Promise<void>[] = [];
    const ops: WriteOp[] = [];
    const held: string[] = [];
    const inBatch: number[] = [];
    for (let i = 0; i < merges.length; i++) {
      const merge = merges[i]!;
      const admitted = this.admitMerge(merge, "merge");
      if ("ok" in admitted) {
        replies[i] = admitted;
        continue;
      }
      const conflicts = { lww: merge.lww === true };
      const name = lockName(merge.key);
      if (admitted.hintFor !== undefined || this.dropped(merge.key) || !this.locks.tryAcquireOne(name)) {
        const work = admitted.hintFor !== undefined ? this.addHint(admitted.hintFor, merge.key, admitted.set) : this.mergeInto(merge.key, admitted.set, conflicts, admitted.placementFenced);
        single.push(work.then((reply) => void (replies[i] = reply), (error: unknown) => void (replies[i] = failedMerge(error))));
        continue;
      }
      try {
        this.observeTimestamps(admitted.set);
        const plan = this.mergePlan(merge.key, admitted.set, conflicts, admitted.placementFenced ? this.options.ringFence : undefined);
        if (!Array.isArray(plan)) {
          replies[i] = plan;
          this.locks.release([name]);
          continue;
        }
        const badKey = plan.find((op) => op.key.length === 0 || op.key.length > STORAGE_KEY_BYTES_MAX);
        if (badKey !== undefined) throw new Error(`a storage key of ${badKey.key.length} bytes; keys are 1 to ${STORAGE_KEY_BYTES_MAX} bytes`);
        for (let j = 0; j < plan.length; j++) ops.push(plan[j]!);
        held.push(name);
        inBatch.push(i);
      } catch (error) {
        this.locks.release([name]);
        replies[i] = failedMerge(error);
      }
    }
    if (ops.length > 0) {
      const written = this.tracked(this.commit(ops, { stamped: false }));
      try {
        await written;
        for (const i of inBatch) replies[i] = mergedDurably;
      } catch (error) {
        for (const i of inBatch) replies[i] = failedMerge(error);
      } finally {
        this.locks.release(held);
      }
    }
    await Promise.all(single);
    return replies;
  }

  private async handleMergeBatch(message: MergeBatchMessage): Promise<unknown> {
    const merges = message.merges;
    if (!Array.isArray(merges) || merges.length === 0 || merges.length > mergeBatchItemsMax) {
      return { ok: false, error: `merges: expected 1 to ${mergeBatchItemsMax} merges, got ${Array.isArray(merges) ? merges.length : typeof merges}` };
    }
    if (!merges.every((merge) => merge !== null && typeof merge === "object")) return { ok: false, error: "merges: a merge is not an object" };
    return { ok: true, replies: await this.mergeMany(merges) };
  }

  private handleScan(message: unknown): unknown {
    const parsed = parseScanMessage(message);
    if (!parsed.ok) return { ok: false, error: `scan: ${parsed.error}` };
    const fence = this.options.ringFence;
    if (parsed.ringVersion !== undefined && fence !== undefined) return this.fencedScan(fence, parsed.ringVersion, () => this.scanReply(parsed));
    if (parsed.placed !== undefined && fence !== undefined) {
      // A query names one partition key (its prefix is that key's item-key prefix): fenced like a
      // fetch. A list spans every partition: refused on any newer ring (its coverage is stale).
      const refusal =
        (message as { type: string }).type === "replica.query"
          ? ringRefusalOf(fence, parsed.range.prefix, this.options.nodeId, parsed.placed.ringVersion, parsed.placed.n, "read")
          : ringNewerOf(fence, parsed.placed.ringVersion);
      if (refusal !== undefined) return refusal;
    }
    return this.scanReply(parsed);
  }

  /** A transfer scan (ring-fence.ts): refused while this node's ring is older than the scanner's; else after the writes in flight. */
  private async fencedScan(fence: ReplicaRingFence, ringVersion: number, reply: () => unknown): Promise<unknown> {
    const behind: RingBehind | undefined = ringBehindOf(fence, ringVersion);
    if (behind !== undefined) return behind;
    await this.drainWrites();
    return reply();
  }

  private scanReply(parsed: Extract<ReturnType<typeof parseScanMessage>, { ok: true }>): unknown {
    if (parsed.records === "accepted") {
      const page = this.scanAccepted(parsed.range);
      return { ok: true, entries: page.entries.map((entry) => [entry.key, entry.value ?? null]), exhausted: page.exhausted };
    }
    const page = this.scan(parsed.range);
    return { ok: true, entries: page.entries.map((entry) => [entry.key, entry.set]), exhausted: page.exhausted };
  }

  private handleTombstoneCheck(message: TombstoneCheckMessage): unknown {
    const { keys, what } = message;
    if (what !== "hints" && what !== "sets") return { ok: false, error: `tombstones: what must be "hints" or "sets", got ${String(what)}` };
    if (!Array.isArray(keys) || keys.length > tombstoneCheckKeysMax || !keys.every((key) => key instanceof Uint8Array && key.length > 0)) {
      return { ok: false, error: `tombstones: keys must be at most ${tombstoneCheckKeysMax} non-empty byte strings` };
    }
    try {
      const departures = this.options.departures;
      if (departures === undefined) return { ok: true, results: this.checkTombstones(keys, what) };
      if (message.departures !== undefined) void departures.merge(message.departures);
      return { ok: true, results: this.checkTombstones(keys, what), departures: departures.wire() };
    } catch (error) {
      return { ok: false, error: `tombstones: ${error instanceof Error ? error.message : String(error)}` };
    }
  }

  /** A leaver's report that it handed everything on, or a peer's records (tombstone-reaper-departures.ts). */
  private async handleDepartures(message: DeparturesMessage): Promise<unknown> {
    const departures = this.options.departures;
    if (departures === undefined) return { ok: false, error: "departures: not kept on this node" };
    if (!Array.isArray(message.departures) || message.departures.length > departuresMax) return { ok: false, error: `departures: expected at most ${departuresMax} records` };
    await departures.merge(message.departures);
    return { ok: true, departures: departures.wire() };
  }

  private async handleReap(message: ReapMessage): Promise<unknown> {
    if (!(message.key instanceof Uint8Array)) return { ok: false, error: "reap: key is not bytes" };
    const parsed = dvvset.parse(message.set, isSibling);
    if (!parsed.ok) return { ok: false, error: `reap: ${parsed.error}` };
    return { ok: true, reaped: await this.reap(message.key, parsed.set) };
  }

  /**
   * Hybrid logical clock receive (Kulkarni et al.): a version from another node moves this
   * node's clock past its timestamp, so a write this node coordinates later is stamped after
   * it and wins on a last-writer-wins table. A timestamp too far ahead (clock skew beyond the
   * bound) is not followed; the version is still stored.
   */
  private observeTimestamps(set: DottedVersionVectorSet<Sibling>): void {
    const hlc = this.options.hlc;
    if (hlc === undefined) return;
    let newest = -1;
    // In place, not through dvvset.values: every merge received runs this.
    const entries = set.entries;
    for (let i = 0; i < entries.length; i++) {
      const values = entries[i]![2];
      for (let j = 0; j < values.length; j++) if (values[j]!.timestamp > newest) newest = values[j]!.timestamp;
    }
    for (let i = 0; i < set.anonymous.length; i++) if (set.anonymous[i]!.timestamp > newest) newest = set.anonymous[i]!.timestamp;
    if (newest >= 0) hlc.receive(newest);
  }

  /** The context of a coordinated write: the client's, raised above the fresh-counter base when this node holds nothing. */
  private contextFor(before: DottedVersionVectorSet<Sibling> | undefined, context: VersionVector | undefined, actor: string): VersionVector | undefined {
    const base = this.options.freshCounterBase;
    if (before !== undefined || base === undefined) return context;
    const floor: VersionVector = [[actor, base()]];
    return context === undefined ? floor : mergeVersionVectors(context, floor);
  }

  private replace(itemKey: Bytes, before: DottedVersionVectorSet<Sibling> | undefined, after: DottedVersionVectorSet<Sibling>, how: { stamped: boolean }): Promise<void> {
    return this.commit(replaceOps(itemKey, before, after), how);
  }

  /** Writes `ops` durably; a batch that carried the HLC floor and failed makes the next write carry it again. */
  private commit(ops: WriteOp[], how: { stamped: boolean }): Promise<void> {
    const floor = how.stamped ? this.options.hlcFloor : undefined;
    const carried = floor?.carry(ops);
    // Chained, not async: every item write passes here.
    let written: Promise<void>;
    try {
      written = this.options.storage.write(ops, durably);
    } catch (error) {
      floor?.failed();
      return Promise.reject(error as Error);
    }
    if (floor === undefined) return written;
    return written.then(
      () => {
        if (carried !== undefined) floor.landed(carried);
      },
      (error: unknown) => {
        floor.failed();
        throw error;
      },
    );
  }

  private dropped(itemKey: Uint8Array): boolean {
    const isTableDropped = this.options.isTableDropped;
    return isTableDropped !== undefined && isTableDropped(itemKeyTableId(itemKey));
  }

  /**
   * Runs `work` holding the write locks of `keys` (the ones every write, merge, reap and the
   * expiry sweep take), so no write of those keys runs meanwhile; undefined, having run
   * nothing, when the locks' bound refused. For the partition release (handoff/partition-release.ts).
   */
  async underKeyLocks<R>(keys: readonly Uint8Array[], work: () => Promise<R>): Promise<R | undefined> {
    const names = keys.map(lockName);
    if (!(await this.locks.acquire(names))) return undefined;
    try {
      return await work();
    } finally {
      this.locks.release(names);
    }
  }

  private async locked<R>(itemKey: Uint8Array, work: () => Promise<R>): Promise<R | { ok: false; error: "overloaded"; message: string }> {
    const name = lockName(itemKey);
    // A free key is taken at once; only a held one waits (a promise and a turn of the microtask queue less per write).
    if (!this.locks.tryAcquireOne(name) && !(await this.locks.acquire([name]))) return { ok: false, error: "overloaded", message: "too many writes waiting on one key" };
    try {
      return await work();
    } finally {
      this.locks.release([name]);
    }
  }
}

function failedMerge(error: unknown): { ok: false; error: string } {
  return { ok: false, error: `merge: ${error instanceof Error ? error.message : String(error)}` };
}

/** The ops that replace a key's stored set `before` by `after`: the record and its expiry and tombstone index entries. */
function replaceOps(itemKey: Bytes, before: DottedVersionVectorSet<Sibling> | undefined, after: DottedVersionVectorSet<Sibling>): WriteOp[] {
  const ops: WriteOp[] = [{ type: "put", key: itemKey, value: encodeSiblingRecord(after) }];
  const expiry = expiryIndexOps(itemKey, before, after);
  for (let i = 0; i < expiry.length; i++) ops.push(expiry[i]!);
  const tombstones = tombstoneIndexOps(itemKey, before, after);
  for (let i = 0; i < tombstones.length; i++) ops.push(tombstones[i]!);
  return ops;
}

/** Expiry and tombstone index changes for replacing `before` by `after` (undefined: removed). */
function indexOps(itemKey: Bytes, before: DottedVersionVectorSet<Sibling> | undefined, after: DottedVersionVectorSet<Sibling> | undefined): WriteOp[] {
  return [...expiryIndexOps(itemKey, before, after), ...tombstoneIndexOps(itemKey, before, after)];
}

function onlyTombstones(set: DottedVersionVectorSet<Sibling>): boolean {
  return dvvset.values(set).every((sibling) => sibling.tombstone);
}

/** True when the set has live siblings and every one of them has expired by `nowMs`. */
function allLiveExpired(set: DottedVersionVectorSet<Sibling>, nowMs: number): boolean {
  const live = dvvset.values(set).filter((sibling) => !sibling.tombstone);
  return live.length > 0 && live.every((sibling) => isExpiredAt(sibling, nowMs));
}

function lockName(itemKey: Uint8Array): string {
  return Buffer.from(itemKey.buffer, itemKey.byteOffset, itemKey.byteLength).toString("latin1");
}
