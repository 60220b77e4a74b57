import type { NodeId } from "../runtime/network.js";
import { metaKey } from "../storage/keyspace.js";
import type { StorageEngine } from "../storage/storage-engine.js";

/**
 * The nodes whose data messages this node refuses (PeerDispatcher.refuseFrom, node-cluster.ts
 * refuseRemoved): nodes a ring took out of the owners while membership held them down (replaced
 * through a plan while dead). They may come back with old hints and partition data that tombstone
 * GC never waited for; handed to a member after a collection, those would resurrect deleted values.
 *
 * Kept in the node's metadata (meta "cluster.removed"), so a member that restarts keeps refusing
 * (issue 6; in memory only, a restarted member took the removed node's stale hints). An entry is
 * dropped when a ring places the node again (it joined again through a plan: it is a member, and
 * tombstone GC waits for members). Bounded by `entriesMax` (membership's membersMax): beyond it the
 * oldest entry is forgotten first.
 *
 * Each change is written durably before the next ring event is handled (the writes are chained
 * in order); the in-memory map answers at once, so a refusal never waits for the disk.
 */
export const removedRefusalsMetaKey = metaKey("cluster.removed");

export interface RemovedEntry {
  id: NodeId;
  /** The version of the first ring this node saw without it. */
  ringVersion: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class RemovedRefusals {
  private readonly entries = new Map<NodeId, number>();
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly storage: StorageEngine,
    private readonly entriesMax: number,
  ) {}

  /** The persisted entries (malformed ones dropped), at most entriesMax. */
  static load(storage: StorageEngine, entriesMax: number): RemovedRefusals {
    const refusals = new RemovedRefusals(storage, entriesMax);
    for (const entry of parseEntries(storage.get(removedRefusalsMetaKey))) {
      if (refusals.entries.size >= entriesMax) break;
      refusals.entries.set(entry.id, entry.ringVersion);
    }
    return refusals;
  }

  /** The ring version the node was removed at, or undefined when it is not refused. */
  get(id: NodeId): number | undefined {
    return this.entries.get(id);
  }

  has(id: NodeId): boolean {
    return this.entries.has(id);
  }

  get size(): number {
    return this.entries.size;
  }

  list(): RemovedEntry[] {
    return [...this.entries].map(([id, ringVersion]) => ({ id, ringVersion }));
  }

  /** Refuses `id` from now on (oldest entry forgotten beyond the bound); resolves once durable. */
  add(id: NodeId, ringVersion: number): Promise<void> {
    if (this.entries.get(id) === ringVersion) return this.writing;
    this.entries.delete(id);
    this.entries.set(id, ringVersion);
    while (this.entries.size > this.entriesMax) this.entries.delete(this.entries.keys().next().value!);
    return this.persist();
  }

  /** Stops refusing `id` (a ring placed it again); resolves once durable. */
  delete(id: NodeId): Promise<void> {
    return this.entries.delete(id) ? this.persist() : this.writing;
  }

  private persist(): Promise<void> {
    const value = encoder.encode(JSON.stringify(this.list()));
    const write = this.writing.then(
      () => this.storage.write([{ type: "put", key: removedRefusalsMetaKey, value }], { durable: true }),
      () => this.storage.write([{ type: "put", key: removedRefusalsMetaKey, value }], { durable: true }),
    );
    this.writing = write;
    return write;
  }
}

function parseEntries(bytes: Uint8Array | undefined): RemovedEntry[] {
  if (bytes === undefined) return [];
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch {
    return [];
  }
  if (!Array.isArray(value)) return [];
  const entries: RemovedEntry[] = [];
  for (const item of value) {
    const entry = item as Partial<RemovedEntry> | null;
    if (typeof entry !== "object" || entry === null) continue;
    if (typeof entry.id !== "string" || entry.id.length === 0 || !Number.isSafeInteger(entry.ringVersion)) continue;
    entries.push({ id: entry.id, ringVersion: entry.ringVersion! });
  }
  return entries;
}
