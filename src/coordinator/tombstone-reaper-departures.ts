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
 * on, -1 when it never did). A departure is pending while `cleanAt <= placedUpTo`. Each node
 * records a departure when a ring takes a node out of the owners (members and, in transition,
 * previous owners) while membership holds it up (a leaver gossips until it announces that it
 * left); a node removed while membership holds it down, or no longer knows it (forgotten after a
 * long death), was replaced through a plan while dead, which is the operator's declaration that
 * it is gone: its data messages are refused instead (node/peer-dispatcher-refusals.ts). A
 * ring placing the node again raises `placedUpTo` (while it is a member, GC waits for it as a
 * member), so a report from an earlier departure never clears a later one.
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
 * Liveness: a leaver that never reports (its disk was lost) holds GC back until it is placed
 * again (start a node with its id and let it join, then leave it again). So does a dead node
 * that a member still believed up when a replace removed it (a member that had not yet heard
 * of the death); replacing a node only once every member sees it down avoids that.
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
  /** Pending records forgotten because the bound was reached (a sign of a bound too small). */
  evictedPending = 0;

  private constructor(
    private readonly storage: StorageEngine,
    private readonly entriesMax: number,
    private readonly self: NodeId | undefined,
  ) {}

  /**
   * The persisted records; `ring` is the ring the node starts with (the next ring is compared
   * with it); `self` is this node (its own pending record is kept, never sent: see `wire`).
   */
  static load(storage: StorageEngine, entriesMax: number, ring: RingState | undefined, self?: NodeId): Departures {
    const departures = new Departures(storage, entriesMax, self);
    departures.lastRing = ring;
    const bytes = storage.get(departuresMetaKey);
    if (bytes !== undefined) {
      try {
        departures.absorb(JSON.parse(decoder.decode(bytes)));
      } catch {
        // unreadable: start empty (the other members still hold their records)
      }
    }
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
   * A ring this node adopted: nodes it takes out of the owners that membership does not hold
   * down get a pending record; nodes it places have theirs raised. Resolves once durable.
   */
  observeRing(ring: RingState, heldDown: (id: NodeId) => boolean): Promise<void> {
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
    if (before !== undefined) {
      for (const id of placedIds(before)) {
        if (placesNode(ring, id) || heldDown(id)) continue;
        changed = this.put(id, { placedUpTo: before.version, cleanAt: -1 }) || changed;
      }
    }
    return changed ? this.persist() : this.writing;
  }

  /** `id` finished handing its data on, as of ring `ringVersion` (its own report). Resolves once durable. */
  markClean(id: NodeId, ringVersion: number): Promise<void> {
    return this.put(id, { placedUpTo: -1, cleanAt: ringVersion }) ? this.persist() : this.writing;
  }

  /** Merges records from a peer (malformed ones are dropped). Resolves once durable. */
  merge(value: unknown): Promise<void> {
    return this.absorb(value) ? this.persist() : this.writing;
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
    const value = encoder.encode(JSON.stringify(this.all()));
    const write = (): Promise<void> => this.storage.write([{ type: "put", key: departuresMetaKey, value }], { durable: true });
    this.writing = this.writing.then(write, write);
    return this.writing;
  }
}

function placedIds(ring: RingState): NodeId[] {
  const ids = ring.members.map((m) => m.id);
  for (const m of ring.previous?.members ?? []) if (!ids.includes(m.id)) ids.push(m.id);
  return ids;
}

function placesNode(ring: RingState, id: NodeId): boolean {
  return ring.members.some((m) => m.id === id) || ring.previous?.members.some((m) => m.id === id) === true;
}
