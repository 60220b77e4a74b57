import { partitionOf } from "../ring/partition-hash.js";
import { preferenceList } from "../ring/preference-list.js";
import type { RingState } from "../ring/ring-state.js";
import type { NodeId } from "../runtime/network.js";
import { decodeItemKey } from "../storage/item-key.js";

/**
 * Ring-version fencing of the eventual path (the strong path's is in paxos/README.md).
 *
 * Every replica write a coordinator sends ("replica.merge": replication, hinted writes to
 * fallbacks, read repair) carries the version of the ring it placed the key on. The replica
 * refuses it, answering its own ring version, when
 *
 *   its ring is newer than that version, and under its ring the node the write is for (itself,
 *   or on a fallback the down primary `hintFor` names) is not one of the key's n primaries
 *   (for a ring in transition: of the *new* owners), n being the larger of the table's n here
 *   and the n the sender placed with (the message's `n`), so a table whose n just changed is
 *   never refused for the difference.
 *
 * Why. A partition that moves is copied by the gaining node's transfer scan of the old
 * replicas (handoff/ownership-transfer.ts); a write that reaches an old replica after the scan
 * passed its key stays there alone, and a leaving node exits with it. Coordinators on the ring
 * in transition already place on the new owners only, so the writes that can land behind the
 * scan come from coordinators on an older ring, or are hints handed back to a node that no
 * longer owns the key. The first are refused by this rule once the old replica holds the new
 * ring; the scan makes sure it does: a transfer scan names the scanner's ring version and a
 * source on an older ring refuses it ("ring-behind") until gossip brought it that ring, and
 * then answers only after every write it admitted before had finished (ReplicaService
 * `drainWrites`). So each write either was admitted before the scan (and is in it) or was
 * checked against a ring that no longer places the old replica (and refused). The coordinator
 * counts a refusal as a failed reply, learns the newer ring from the refusing peer and places
 * the write once more on the new list (eventual-coordinator.ts).
 *
 * What is still accepted: a write from a coordinator on a *newer* ring (the replica's view is
 * behind; the coordinator asked it because its ring places it, and refusing would only stall
 * writes until gossip), a write placed on the *same* ring version (the sender placed it on the
 * ring this replica holds, so it places the node; checking costs a hash and a walk of the ring
 * per write, paid only when the versions differ), a write for a node its ring does place (old and new owner alike of a
 * partition that does not move away from it), a hinted write for a primary that is still a
 * primary (a fallback legitimately holds a partition it does not own), a write whose table it
 * cannot place (n unknown here), and a write without a version (an older sender; anti-entropy
 * and the transfer's own merges, which only copy data between replicas that hold it anyway).
 *
 * Reads are fenced by the same rule (issue 6: a read through a coordinator on an older ring
 * must not take "not found" from a node that released the partition). "replica.fetch" carries
 * the coordinator's ring version like "replica.merge" (not its n: one integer on the hot path;
 * the replica uses its table's n, and a refusal for a difference in n only costs the read a
 * second round on the learned ring, where the versions are equal and nothing is refused), and
 * a query's "replica.query" carries version and n as `placedRingVersion` and `n` (its range names one partition key); a replica
 * whose newer ring does not place the node the read is for (itself, or the primary a hinted
 * fetch is for) refuses it with the same "ring" answer instead of answering from what it may
 * have released (handoff/partition-release.ts deletes a partition's keys once the ring settled
 * without the node). The coordinator counts the refusal as a failed reply, so its quorum is
 * made of replicas the newest ring they know still places; when the read missed its quorum it
 * learns the newer ring from the refuser and reads once more on the new preference list
 * (eventual-coordinator.ts get, cluster-coordinator.ts query). A replica on an older ring
 * answers as before (it is asked because the coordinator's newer ring places it), and an
 * equal version costs one compare. A coordinator's own replica is never asked by message: it
 * holds the coordinator's ring, so the local read (the synchronous single-replica GET
 * included) needs no check. A list asks every up member and needs replies that hold every
 * partition (cluster-coordinator.ts); its "replica.list" carries the ring version it worked
 * that out on, and a member on any newer ring refuses it, so the coordinator learns the ring
 * and works it out again.
 *
 * Merges without a version (hinted hand-back, a draining node's hints, an anti-entropy repair,
 * a re-targeted hint merged locally) are fenced by placement alone (`unplacedRefusalOf`): a
 * replica whose ring (its new owners during a transition) does not place the node the write is
 * for refuses it with the same "ring" answer, whatever ring the sender held. The check runs
 * under the key's write lock (ReplicaService.merge), like the partition release's deletes, so
 * a key this node released after the ring settled without it can never be written again by a
 * late hint or repair (issue 6: such a copy was kept until the next ring change, served to no
 * one, and could be handed back later). Hint delivery sends a hint whose key the settled ring
 * no longer places on its target to the key's current primaries instead (hint-delivery.ts), so
 * a refused hint is re-routed, not retried forever.
 */
export interface ReplicaRingFence {
  /** This node's ring (membership). */
  ring(): RingState | undefined;
  /** An eventual table's replication n by id; undefined when unknown here (the write is not fenced). */
  nOf(tableId: number): number | undefined;
}

/** A write the replica refused because its newer ring does not place the node the write is for. */
export interface RingRefusal {
  ok: false;
  error: "ring";
  /** The refusing node's ring version: the sender's is older (or the same ring disagrees). */
  ringVersion: number;
  message: string;
}

/** A transfer scan refused because this node's ring is older than the scanner's (retried after gossip). */
export interface RingBehind {
  ok: false;
  error: "ring-behind";
  ringVersion: number;
  message: string;
}

export function isRingRefusal(value: unknown): value is RingRefusal {
  const v = value as Partial<RingRefusal> | null;
  return typeof v === "object" && v !== null && v.ok === false && v.error === "ring" && Number.isSafeInteger(v.ringVersion);
}

/**
 * The refusal of a write of `key` for `target` (this node, or the primary a hint is for) placed
 * on ring version `senderVersion`, or undefined when the replica takes it (see the module comment).
 */
export function ringRefusalOf(fence: ReplicaRingFence, key: Uint8Array, target: NodeId, senderVersion: unknown, senderN?: unknown, what: "write" | "read" = "write"): RingRefusal | undefined {
  if (typeof senderVersion !== "number" || !Number.isSafeInteger(senderVersion)) return undefined;
  const ring = fence.ring();
  if (ring === undefined || ring.version <= senderVersion) return undefined;
  const item = decodeItemKey(key);
  const local = fence.nOf(item.tableId);
  if (local === undefined || local < 1) return undefined;
  const n = typeof senderN === "number" && Number.isSafeInteger(senderN) && senderN > local ? senderN : local;
  const partition = partitionOf(item.partitionKey, ring.partitionCount);
  const primaries = preferenceList(ring, partition, Math.min(n, ring.members.length));
  if (primaries.includes(target)) return undefined;
  return {
    ok: false,
    error: "ring",
    ringVersion: ring.version,
    message: `ring ${ring.version} does not place ${target} for partition ${partition} (the ${what} was placed on ring ${senderVersion})`,
  };
}

/**
 * The refusal of a merge without a ring version (see the module comment) of `key` for `target`,
 * or undefined when this node's ring places `target` among the key's n primaries (the new
 * owners during a transition), or cannot say (no ring, a table not known here).
 */
export function unplacedRefusalOf(fence: ReplicaRingFence, key: Uint8Array, target: NodeId): RingRefusal | undefined {
  const ring = fence.ring();
  if (ring === undefined || ring.members.length === 0) return undefined;
  const item = decodeItemKey(key);
  const n = fence.nOf(item.tableId);
  if (n === undefined || n < 1) return undefined;
  const partition = partitionOf(item.partitionKey, ring.partitionCount);
  if (preferenceList(ring, partition, Math.min(n, ring.members.length)).includes(target)) return undefined;
  return { ok: false, error: "ring", ringVersion: ring.version, message: `ring ${ring.version} does not place ${target} for partition ${partition} (a merge without a ring version)` };
}

/** The refusal of a list whose coordinator worked out its coverage on ring `senderVersion`, when this node's ring is newer (ring-fence.ts, reads). */
export function ringNewerOf(fence: ReplicaRingFence, senderVersion: number): RingRefusal | undefined {
  const ring = fence.ring();
  if (ring === undefined || ring.version <= senderVersion) return undefined;
  return { ok: false, error: "ring", ringVersion: ring.version, message: `this node holds ring ${ring.version}, newer than ring ${senderVersion} the list was placed on` };
}

/** The refusal of a transfer scan by a scanner on ring `scannerVersion`, or undefined when this node's ring is at least as new. */
export function ringBehindOf(fence: ReplicaRingFence, scannerVersion: unknown): RingBehind | undefined {
  if (typeof scannerVersion !== "number" || !Number.isSafeInteger(scannerVersion)) return undefined;
  const version = fence.ring()?.version;
  if (version !== undefined && version >= scannerVersion) return undefined;
  return {
    ok: false,
    error: "ring-behind",
    ringVersion: version ?? -1,
    message: `this node holds ring ${version ?? "none"}, older than the scanner's ring ${scannerVersion}; retry once gossip brought it`,
  };
}
