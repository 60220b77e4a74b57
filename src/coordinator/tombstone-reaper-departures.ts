import type { RingState } from "../ring/ring-state.js";
import type { NodeId } from "../runtime/network.js";
import { metaKey } from "../storage/keyspace.js";
import type { StorageEngine } from "../storage/storage-engine.js";

/**
 * Nodes that left the ring with data they may not have handed on yet: tombstone GC holds back
 * for them like for a member that is down (tombstone-reaper.ts; issue 6).
 *
 * The hazard: a node a committed leave takes out of the ring hands its hints on before it exits
 * (hint-delivery.ts drain). If it goes down mid-drain it is no member any more, so GC used to wait
 * neither for it nor asked it about hints; returning after a collection it handed an older
 * version to a primary that had reaped the tombstone, and the deleted value came back.
 *
 * The record: per node id, `placedUpTo` (the version of the last ring this node saw placing it)
 * and `cleanAt` (the ring version at which the node reported that it finished handing its data
 * on, -1 when it never did). A departure is pending while `cleanAt <= placedUpTo`. Which nodes
 * depart is decided once, by the committed plan, and carried in the ring: a ring lists in
 * `departing` (ring/ring-state.ts) the nodes a committed `leave` or `replace` takes out while the
 * committing leader believed them running ("up" or "leaving": node/cluster-plan-record.ts
 * departsFrom); every node that sees such a ring records them (placedUpTo: the ring's version
 * while it still places them, in transition; the version before, once settled). A node taken
 * out while the leader held it suspect or down (a removal of a dead node) is not listed: its
 * data is rebuilt from the survivors and the members that hold it down refuse its data
 * messages if it returns (node/peer-dispatcher-refusals.ts). (Each member used to decide from its own failure detector
 * when a ring dropped a node; a member that still believed a replaced dead node up recorded a
 * departure nobody would ever clear, and it spread: GC stalled cluster-wide.) A ring placing
 * the node again raises `placedUpTo` (while it is a member, GC waits for it as a member), so a
 * report from an earlier departure never clears a later one.
 *
 * While its own departure is pending, the leaver answers GC's hints check "held" for every key
 * (ReplicaService `leftUnclean`), so GC waits for it while it is up too: the hints it still holds
 * and the partition data it has not released yet are both covered.
 *
 * The leaver itself reports "clean" once its hints drained and it released its partitions
 * (NodeItems.reportLeftClean): it sets `cleanAt` to its current ring version, which is newer than
 * any ring that placed it, and pushes its record to every member of the ring ("replica.departures").
 * Records also travel with GC's hint checks: the collector sends its record with each
 * "replica.tombstones" hints request and merges each reply's, so a member that missed the
 * report learns it from another, and a collector that joined after the leave learns the pending
 * departure before it collects. The merge takes the maximum of each field per node: commutative,
 * associative and idempotent, so every node that saw the same records agrees.
 *
 * Liveness: a leaver that never reports (it died mid-drain, its disk was lost) holds GC back
 * until an operator forgets it (`forget`, POST /v1/cluster/forget): the forget is a clean
 * report made by the operator, `cleanAt` set to the forgetting node's ring version (which no
 * longer places the node, so it is above every `placedUpTo` of this departure), and spreads
 * and wins like one (merge by maximum). Its risk: values deleted while the leaver held older
 * versions of them may come back if it ever returns with its data.
 *
 * Bounded: at most `entriesMax` nodes (membership's membersMax); beyond it the oldest clean
 * record is forgotten first, then the oldest pending one (counted in `evictedPending`). Durable in
 * the node's metadata (meta "tombstone.departures"); each change is written in order.
 */
export const departuresMetaKey = metaKey("tombstone.departures");

export interface Departure {
  readonly placedUpTo: number;
  readonly cleanAt: number;
}

/** On the wire and on disk: [id, placedUpTo, cleanAt][]. */
export type DeparturesWire = [NodeId, number, number][];

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const idLengthMax = 256;

export class Departures {
  private readonly entries = new Map<NodeId, Departure>();
  private writing: Promise<void> = Promise.resolve();
  private lastRing: RingState | undefined;
  /** When this node first saw each pending record pending (memory only; for the /metrics age). */
  private readonly pendingSinceMs = new Map<NodeId, number>();
  /** Pending records forgotten because the bound was reached (a sign of a bound too small). */
  evictedPending = 0;

  private constructor(
    private readonly storage: StorageEngine,
    private readonly entriesMax: number,
    private readonly self: NodeId | undefined,
    private readonly nowMs: (() => number) | undefined,
  ) {}

  /**
   * The persisted records; `ring` is the ring the node starts with (the next ring is compared
   * with it); `self` is this node (its own pending record is kept, never sent: see `wire`);
   * `nowMs` (the runtime's clock) dates pending records for `oldestPendingAgeMs`.
   */
  static load(storage: StorageEngine, entriesMax: number, ring: RingState | undefined, self?: NodeId, nowMs?: () => number): Departures {
    const departures = new Departures(storage, entriesMax, self, nowMs);
    departures.lastRing = ring;
    const bytes = storage.get(departuresMetaKey);
    if (bytes !== undefined) {
      try {
        departures.absorb(JSON.parse(decoder.decode(bytes)));
      } catch {
        // unreadable: start empty (the other members still hold their records)
      }
    }
    // The ring it starts with may list departures a crash kept it from recording (the ring is persisted apart).
    if (ring !== undefined && departures.recordDeparting(ring)) void departures.persist().catch(() => undefined);
    departures.notePending();
    return departures;
  }

  get(id: NodeId): Departure | undefined {
    return this.entries.get(id);
  }

  /** Nodes with a pending departure that `ring` does not place (GC waits for each while it is not up). */
  pending(ring: RingState | undefined): NodeId[] {
    const out: NodeId[] = [];
    for (const [id, entry] of this.entries) if (entry.cleanAt <= entry.placedUpTo && (ring === undefined || !placesNode(ring, id))) out.push(id);
    return out;
  }

  /**
   * A ring this node adopted: the nodes it lists as departing get a pending record (unless a
   * report newer than the ring that last placed them is in); nodes it places have theirs
   * raised. Resolves once durable.
   */
  observeRing(ring: RingState): Promise<void> {
    const before = this.lastRing;
    if (before !== undefined && before.version >= ring.version) return this.writing;
    this.lastRing = ring;
    let changed = false;
    for (const [id, entry] of this.entries) {
      if (placesNode(ring, id) && entry.placedUpTo < ring.version) {
        this.entries.set(id, { placedUpTo: ring.version, cleanAt: entry.cleanAt });
        changed = true;
      }
    }
    changed = this.recordDeparting(ring) || changed;
    this.notePending();
    return changed ? this.persist() : this.writing;
  }

  /** Pending records for the nodes `ring` lists as departing; true when one changed. */
  private recordDeparting(ring: RingState): boolean {
    let changed = false;
    // In transition the leaver is still placed (previous owners); the settled ring is one version up.
    for (const id of ring.departing ?? []) changed = this.put(id, { placedUpTo: placesNode(ring, id) ? ring.version : ring.version - 1, cleanAt: -1 }) || changed;
    return changed;
  }

  /**
   * An operator's forget of `id` (POST /v1/cluster/forget): its pending departure counts as
   * clean as of ring `ringVersion` (this node's, which must not place `id`), so it spreads and
   * wins like the leaver's own report. Resolves once durable.
   */
  forget(id: NodeId, ringVersion: number): Promise<void> {
    const entry = this.entries.get(id);
    const cleanAt = Math.max(ringVersion, (entry?.placedUpTo ?? -1) + 1);
    return this.put(id, { placedUpTo: -1, cleanAt }) ? this.persist() : this.writing;
  }

  /** Records kept, and how many of them are pending (clean or not, placed or not). */
  counts(): { records: number; pending: number } {
    let pending = 0;
    for (const entry of this.entries.values()) if (entry.cleanAt <= entry.placedUpTo) pending++;
    return { records: this.entries.size, pending };
  }

  /**
   * Age of the oldest departure pending that `ring` does not place, in ms since this node first
   * saw it pending (since its start, for one it knew before: the age is not persisted); 0 when none.
   */
  oldestPendingAgeMs(ring: RingState | undefined): number {
    if (this.nowMs === undefined) return 0;
    this.notePending();
    const now = this.nowMs();
    let oldest = 0;
    for (const id of this.pending(ring)) oldest = Math.max(oldest, now - (this.pendingSinceMs.get(id) ?? now));
    return oldest;
  }

  /** `id` finished handing its data on, as of ring `ringVersion` (its own report). Resolves once durable. */
  markClean(id: NodeId, ringVersion: number): Promise<void> {
    return this.put(id, { placedUpTo: -1, cleanAt: ringVersion }) ? this.persist() : this.writing;
  }

  /** Merges records from a peer (malformed ones are dropped). Resolves once durable. */
  merge(value: unknown): Promise<void> {
    return this.absorb(value) ? this.persist() : this.writing;
  }

  /** Dates records newly pending (and not placed by the last ring), forgets the other dates (bounded like the records). */
  private notePending(): void {
    if (this.nowMs === undefined) return;
    const now = this.nowMs();
    const ring = this.lastRing;
    for (const [id, entry] of this.entries) {
      const pending = entry.cleanAt <= entry.placedUpTo && (ring === undefined || !placesNode(ring, id));
      if (pending && !this.pendingSinceMs.has(id)) this.pendingSinceMs.set(id, now);
      else if (!pending) this.pendingSinceMs.delete(id);
    }
    for (const id of this.pendingSinceMs.keys()) if (!this.entries.has(id)) this.pendingSinceMs.delete(id);
  }

  /**
   * The records to send. This node's own record is sent only once clean: a node that was
   * replaced while it was down sees its own removal only after it restarts, and must not make
   * the members that declared it gone wait for it. A pending departure is announced by the
   * members that saw the node leave while up.
   */
  wire(): DeparturesWire {
    return this.all().filter(([id, placedUpTo, cleanAt]) => id !== this.self || cleanAt > placedUpTo);
  }

  private all(): DeparturesWire {
    return [...this.entries].map(([id, entry]) => [id, entry.placedUpTo, entry.cleanAt]);
  }

  private absorb(value: unknown): boolean {
    if (!Array.isArray(value)) return false;
    let changed = false;
    // Bounded work: a peer's records are bounded like ours (a few more are tolerated, then dropped).
    for (const item of value.slice(0, 4 * this.entriesMax)) {
      if (!Array.isArray(item) || item.length !== 3) continue;
      const [id, placedUpTo, cleanAt] = item as unknown[];
      if (typeof id !== "string" || id.length === 0 || id.length > idLengthMax) continue;
      if (!Number.isSafeInteger(placedUpTo) || !Number.isSafeInteger(cleanAt)) continue;
      changed = this.put(id, { placedUpTo: placedUpTo as number, cleanAt: cleanAt as number }) || changed;
    }
    return changed;
  }

  /** Joins `entry` into the record of `id` (field-wise maximum); true when it changed. */
  private put(id: NodeId, entry: Departure): boolean {
    const current = this.entries.get(id);
    const next = current === undefined ? entry : { placedUpTo: Math.max(current.placedUpTo, entry.placedUpTo), cleanAt: Math.max(current.cleanAt, entry.cleanAt) };
    if (current !== undefined && current.placedUpTo === next.placedUpTo && current.cleanAt === next.cleanAt) return false;
    this.entries.set(id, next);
    while (this.entries.size > this.entriesMax) this.evictOne();
    return true;
  }

  private evictOne(): void {
    for (const [id, entry] of this.entries) {
      if (entry.cleanAt > entry.placedUpTo) {
        this.entries.delete(id);
        return;
      }
    }
    this.evictedPending++;
    this.entries.delete(this.entries.keys().next().value!);
  }

  private persist(): Promise<void> {
    this.notePending();
    const value = encoder.encode(JSON.stringify(this.all()));
    const write = (): Promise<void> => this.storage.write([{ type: "put", key: departuresMetaKey, value }], { durable: true });
    this.writing = this.writing.then(write, write);
    return this.writing;
  }
}

function placesNode(ring: RingState, id: NodeId): boolean {
  return ring.members.some((m) => m.id === id) || ring.previous?.members.some((m) => m.id === id) === true;
}
