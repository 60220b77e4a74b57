import type { Timers } from "../runtime/runtime.js";
import type { NodeId } from "../runtime/network.js";
import { decodeSiblingRecordIfAny } from "../replica/sibling-record.js";
import { expiryIndexOps } from "../replica/sibling-expiry.js";
import { tombstoneIndexOps } from "../replica/tombstone-index.js";
import { BackgroundTask } from "../replica/background-task.js";
import { partitionOf } from "../ring/partition-hash.js";
import { preferenceList } from "../ring/preference-list.js";
import { ringHash } from "../ring/ring-hash.js";
import type { RingState } from "../ring/ring-state.js";
import { decodeItemKey } from "../storage/item-key.js";
import { metaKey, Namespace } from "../storage/keyspace.js";
import type { StorageEngine, WriteOp } from "../storage/storage-engine.js";

/**
 * Drops the data of partitions this node no longer serves once a ring change has settled
 * (issue 6, "no resurrection"; Riak deletes a vnode's data once its handoff completed).
 *
 * Ownership transfer is pulled by the gaining nodes while the ring is in transition
 * (ownership-transfer.ts); the leader publishes the settled ring (no `previous`) only once
 * every gaining node filled what it gains. From then on an old owner's copy is served to no
 * one and repaired by no one (anti-entropy and tombstone GC only involve a partition's
 * primaries), yet it would merge back if a later ring gave the partition back to it: keys
 * deleted and reaped meanwhile, and old CASPaxos acceptor records, would resurrect.
 *
 * Under a settled ring, a pass walks the items namespace (0x01, where sibling records and
 * acceptor records both live; keys are ordered by table and partition key, not by ring
 * partition, so each key's partition is computed) `batchMax` keys per step, and deletes every
 * key whose table's preference list (the primaries, `nOf` of its table) does not contain this
 * node, with its expiry and tombstone index entries. Deletes go through the replica's storage,
 * so with anti-entropy on the version-hash index and the Merkle trees follow (IndexedStorage).
 * Keys of tables whose n is unknown here (not yet in the catalog, dropped) are kept; the hint
 * namespace is never read.
 *
 * Safety: nothing is released while the ring is in transition (the gaining nodes may still
 * pull from this node), nor before every new primary of a partition to drop acknowledged the
 * same settled ring, (version, content hash) (`acknowledged`; issue 6: a ring some members never
 * adopted must not let an old owner drop its copy), and each step re-reads the ring: a pass belongs to one ring version,
 * and a new ring starts a new pass from the first key (what the old pass kept may now be
 * unowned, and what it released is owned by the others). The deletes run under the replica's
 * per-key write locks (`locks`, ReplicaService.underKeyLocks: the locks every replica write,
 * merge, reap and expiry sweep takes): a step reads its batch, takes the locks of the keys to
 * drop, then, holding them, checks the ring once more (same version, still settled) and
 * re-reads each key, deleting what is there now with its index entries. A merge that was
 * storing into one of those keys has finished by then and its result goes too (without the
 * locks its write, queued behind the delete in the same group commit, could bring the old
 * set back, or leave index entries for a key that is gone); a merge that comes after finds
 * nothing and stores only what it carries (see "Not covered").
 *
 * After the pass: a write that reaches this node for a key it no longer serves (a hint handed
 * back to it, an exchange, a read repair from a peer on an older ring) is refused by the ring
 * fence (replica/ring-fence.ts): a versioned merge when the sender's ring is older, one without
 * a version whenever this node's ring does not place it, checked under the same key locks; hint
 * delivery sends such hints to the key's current primaries instead. Still accepted: a write
 * from a coordinator on a newer ring that places this node (it is gaining the key back).
 *
 * Resumable and idempotent: the pass's ring version and cursor are stored (meta
 * "partition-release") in the same atomic batch as the step's deletes; after a crash the pass
 * resumes at the cursor, and running a step again deletes nothing that is still owned.
 */
export interface PartitionReleaseOptions {
  self: NodeId;
  /** The replica's storage (IndexedStorage when anti-entropy runs). */
  storage: StorageEngine;
  timers: Timers;
  ring(): RingState | undefined;
  /** The replication n of a table (eventual or strong); undefined: unknown here, its keys are kept. */
  nOf(tableId: number): number | undefined;
  /** Keys examined per step (default 256). */
  batchMax?: number;
  /** Pause between steps while a pass has work left: the throttle (default 20 ms). */
  busyDelayMs?: number;
  /** Pause between looks for a new settled ring when idle (default 1 s). */
  idleDelayMs?: number;
  /**
   * Runs `work` holding the replica's write locks of `keys` (ReplicaService.underKeyLocks);
   * undefined when the locks' bound refused (the step is retried). Default: runs it unlocked
   * (tests of a bare storage).
   */
  locks?: { underKeyLocks<R>(keys: readonly Uint8Array[], work: () => Promise<R>): Promise<R | undefined> };
  /**
   * Which of `nodes` (the primaries, under the settled `ring`, of partitions a step would drop,
   * this node excluded) hold that very ring, (version, content hash), or a newer one
   * (membership/ring-acknowledgement.ts). Nothing is dropped until every one of them did: a new
   * owner still on another ring of the same version, or on the ring in transition, may not serve
   * the partition. Each node's acknowledgement is remembered for the ring. Absent: not asked
   * (unit tests of a bare storage).
   */
  acknowledged?(ring: RingState, nodes: readonly NodeId[]): Promise<ReadonlySet<NodeId>>;
  /** Each step that released keys: how many, and the ring version of the pass. */
  onReleased?(count: number, ringVersion: number): void;
  onError(error: unknown): void;
}

export const partitionReleaseDefaults = Object.freeze({ batchMax: 256, busyDelayMs: 20, idleDelayMs: 1_000 });

/** The largest batch a step may take: every key deleted may add two index deletes. */
export const partitionReleaseBatchMaxLimit = 4_096;

/** Where the pass's progress is stored (node metadata namespace). */
export const releaseProgressKey = metaKey("partition-release");

export interface ReleaseProgress {
  ringVersion: number;
  /** The last key examined; undefined: the pass starts at the first item key. */
  after: Uint8Array | undefined;
  done: boolean;
}

export interface PartitionReleaseStats {
  /** Keys deleted since start. */
  released: number;
  /** Partitions (of the ring) this node dropped keys of, counted once per pass, since start. */
  partitionsReleased: number;
  /** Steps that found the ring changed once they held the key locks (nothing deleted; the next step starts over). */
  ringChangedUnderLocks: number;
  /** Steps that deleted nothing because a new owner had not acknowledged the settled ring yet. */
  waitedForAcknowledgement: number;
  /** Passes completed since start. */
  passes: number;
  /** The ring version of the last completed pass (from storage at start). */
  doneRingVersion: number | undefined;
}

const itemsStart = Uint8Array.of(Namespace.items);
const itemsEnd = Uint8Array.of(Namespace.items + 1);

export class PartitionRelease {
  private readonly task: BackgroundTask;
  private readonly batchMax: number;
  readonly stats: PartitionReleaseStats = { released: 0, partitionsReleased: 0, ringChangedUnderLocks: 0, waitedForAcknowledgement: 0, passes: 0, doneRingVersion: undefined };
  /** The partitions the pass under way dropped keys of (at most the ring's partition count), and its ring version. */
  private passPartitions = { ringVersion: -1, partitions: new Set<number>() };
  /** The nodes that acknowledged the ring (at most its members), and that ring's (version, hash). */
  private acknowledged = { ringVersion: -1, ringHash: "", nodes: new Set<NodeId>() };

  constructor(private readonly options: PartitionReleaseOptions) {
    this.batchMax = options.batchMax ?? partitionReleaseDefaults.batchMax;
    if (!(Number.isSafeInteger(this.batchMax) && this.batchMax >= 1 && this.batchMax <= partitionReleaseBatchMaxLimit)) {
      throw new RangeError(`partition release: batchMax must be an integer in 1..${partitionReleaseBatchMaxLimit}, got ${String(options.batchMax)}`);
    }
    const stored = loadProgress(options.storage);
    if (stored?.done === true) this.stats.doneRingVersion = stored.ringVersion;
    this.task = new BackgroundTask({
      timers: options.timers,
      step: () => this.step(),
      idleDelayMs: options.idleDelayMs ?? partitionReleaseDefaults.idleDelayMs,
      busyDelayMs: options.busyDelayMs ?? partitionReleaseDefaults.busyDelayMs,
      onError: options.onError,
    });
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** The stored progress of the current or last pass. */
  progress(): ReleaseProgress | undefined {
    return loadProgress(this.options.storage);
  }

  /**
   * One bounded step: examines up to `batchMax` item keys of the settled ring's pass and
   * deletes those this node is no primary of. Resolves true while the pass has keys left.
   */
  async step(): Promise<boolean> {
    const { storage, self } = this.options;
    const ring = this.options.ring();
    if (ring === undefined || ring.previous !== undefined) return false;
    const stored = loadProgress(storage);
    const progress: ReleaseProgress = stored !== undefined && stored.ringVersion === ring.version ? stored : { ringVersion: ring.version, after: undefined, done: false };
    if (progress.done) return false;
    const start = progress.after === undefined ? itemsStart : justAfter(progress.after);
    const owned = new Map<string, boolean>();
    const candidates: { key: Uint8Array; partition: number }[] = [];
    /** The other primaries of the partitions a candidate is dropped from. */
    const newOwners = new Set<NodeId>();
    let examined = 0;
    let last: Uint8Array | undefined;
    for (const entry of storage.range({ start, end: itemsEnd, limit: this.batchMax })) {
      examined++;
      last = entry.key;
      const item = decodeItemKey(entry.key);
      const n = this.options.nOf(item.tableId);
      if (n === undefined) continue;
      const partition = partitionOf(item.partitionKey, ring.partitionCount);
      const placement = `${item.tableId}/${partition}`;
      let mine = owned.get(placement);
      if (mine === undefined) {
        const primaries = preferenceList(ring, partition, Math.min(n, ring.members.length));
        mine = primaries.includes(self);
        owned.set(placement, mine);
        if (!mine) for (const id of primaries) newOwners.add(id);
      }
      if (!mine) candidates.push({ key: entry.key, partition });
    }
    if (candidates.length > 0 && !(await this.acknowledgedBy(ring, newOwners))) {
      this.stats.waitedForAcknowledgement++;
      return false; // the same batch after the idle delay
    }
    const next: ReleaseProgress = { ringVersion: ring.version, after: last ?? progress.after, done: examined < this.batchMax };
    const locks = this.options.locks;
    const work = async (): Promise<number[] | "ring-changed"> => {
      // Under the locks: the ring this batch was judged on must still be the settled ring.
      const now = this.options.ring();
      if (now === undefined || now.previous !== undefined || now.version !== ring.version || (now !== ring && ringHash(now) !== ringHash(ring))) return "ring-changed";
      const ops: WriteOp[] = [];
      const released: number[] = [];
      for (const candidate of candidates) {
        const value = storage.get(candidate.key);
        if (value === undefined) continue;
        const set = decodeSiblingRecordIfAny(value);
        ops.push({ type: "delete", key: candidate.key }, ...expiryIndexOps(candidate.key, set, undefined), ...tombstoneIndexOps(candidate.key, set, undefined));
        released.push(candidate.partition);
      }
      ops.push({ type: "put", key: releaseProgressKey, value: encodeProgress(next) });
      await storage.write(ops, { durable: true });
      return released;
    };
    const outcome = candidates.length === 0 || locks === undefined ? await work() : await locks.underKeyLocks(candidates.map((c) => c.key), work);
    if (outcome === undefined) return true; // the locks' bound refused: the same batch again later
    if (outcome === "ring-changed") {
      this.stats.ringChangedUnderLocks++;
      return true;
    }
    if (outcome.length > 0) {
      this.stats.released += outcome.length;
      if (this.passPartitions.ringVersion !== ring.version) this.passPartitions = { ringVersion: ring.version, partitions: new Set() };
      for (const partition of outcome) {
        if (this.passPartitions.partitions.has(partition)) continue;
        this.passPartitions.partitions.add(partition);
        this.stats.partitionsReleased++;
      }
      this.options.onReleased?.(outcome.length, ring.version);
    }
    if (next.done) {
      this.stats.passes++;
      this.stats.doneRingVersion = ring.version;
    }
    return !next.done;
  }

  /** Whether every one of `owners` acknowledged `ring` (asking those that have not yet). */
  private async acknowledgedBy(ring: RingState, owners: ReadonlySet<NodeId>): Promise<boolean> {
    const ask = this.options.acknowledged;
    if (ask === undefined) return true;
    const hash = ringHash(ring);
    if (this.acknowledged.ringVersion !== ring.version || this.acknowledged.ringHash !== hash) this.acknowledged = { ringVersion: ring.version, ringHash: hash, nodes: new Set() };
    const known = this.acknowledged;
    const missing = [...owners].filter((id) => id !== this.options.self && !known.nodes.has(id));
    if (missing.length === 0) return true;
    const got = await ask(ring, missing);
    // Kept only for the ring they were asked about, and only ring members (bounded by ringMembersMax).
    for (const id of got) if (missing.includes(id) && ring.members.some((m) => m.id === id)) known.nodes.add(id);
    return missing.every((id) => known.nodes.has(id));
  }
}

/** The smallest key after `key` (byte order): `key` followed by 0x00. */
function justAfter(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length + 1);
  out.set(key);
  return out;
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

export function encodeProgress(progress: ReleaseProgress): Uint8Array {
  return utf8Encoder.encode(JSON.stringify({ ringVersion: progress.ringVersion, after: progress.after === undefined ? null : toHex(progress.after), done: progress.done }));
}

/** The stored progress; undefined when absent or unreadable (a new pass starts: harmless, the pass is idempotent). */
export function loadProgress(storage: Pick<StorageEngine, "get">): ReleaseProgress | undefined {
  const bytes = storage.get(releaseProgressKey);
  if (bytes === undefined) return undefined;
  try {
    const value = JSON.parse(utf8Decoder.decode(bytes)) as { ringVersion?: unknown; after?: unknown; done?: unknown };
    if (!Number.isSafeInteger(value.ringVersion) || typeof value.done !== "boolean") return undefined;
    if (value.after !== null && (typeof value.after !== "string" || !/^(?:[0-9a-f]{2})+$/.test(value.after))) return undefined;
    return { ringVersion: value.ringVersion as number, after: value.after === null ? undefined : fromHex(value.after), done: value.done };
  } catch {
    return undefined;
  }
}

function toHex(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += byte.toString(16).padStart(2, "0");
  return text;
}

function fromHex(text: string): Uint8Array {
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return out;
}
