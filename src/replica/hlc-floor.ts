import { pack, unpack } from "msgpackr";
import type { StorageEngine, WriteOp } from "../storage/storage-engine.js";
import { metaKey } from "../storage/keyspace.js";
import { hlcFrom, hlcPhysicalMs, type HybridLogicalClock } from "../versioning/hybrid-logical-clock.js";

/**
 * Timestamps never go backwards across a restart: a meta key holds a floor above every
 * timestamp this node issued into storage, and `restore` advances the HLC to it at start (a
 * wall clock set back while the node was down must not make a later write lose to an earlier
 * one on a last-writer-wins table, nor make Last-Modified go back).
 *
 * The floor is a lease (`leaseMs` ahead of the newest timestamp), written in the same atomic
 * batch as the first record that would reach it, so a busy node writes it about once per
 * lease rather than on every write. Invariant: every committed record's timestamp is below a
 * floor that committed no later than the record (storage commits batches in issue order).
 */
export const hlcFloorKey = metaKey("replica.hlcFloor");

/** How far the persisted floor runs ahead; bounds how far ahead of the wall clock Last-Modified can be after a restart. */
export const hlcFloorLeaseMsDefault = 1000;

export class HlcFloor {
  /** The highest floor written or being written. */
  private floor = 0;
  /** The highest floor known durable (restored, or its batch's write resolved). */
  private durableFloor = 0;

  constructor(
    private readonly storage: StorageEngine,
    private readonly hlc: HybridLogicalClock,
    private readonly leaseMs = hlcFloorLeaseMsDefault,
  ) {}

  /** Advances the HLC past every timestamp persisted before a restart. */
  restore(): void {
    const bytes = this.storage.get(hlcFloorKey);
    if (bytes === undefined) return;
    const floor = unpack(bytes) as number;
    this.hlc.advanceTo(floor);
    this.floor = floor;
    this.durableFloor = floor;
  }

  /**
   * Whether a durable floor is above `timestamp`: a record stamped with it may then reach
   * another node before this node's own write of it is durable (a crash cannot make this node
   * stamp below it again). False while the floor that covers it is still being written.
   */
  covers(timestamp: number): boolean {
    return timestamp < this.durableFloor;
  }

  /** Adds the floor's new lease to `ops` when the clock reached the current one; returns the floor carried (pass it to `landed` once the batch is durable). */
  carry(ops: WriteOp[]): number | undefined {
    const newest = this.hlc.peek();
    if (newest < this.floor) return undefined;
    this.floor = hlcFrom(hlcPhysicalMs(newest) + this.leaseMs, 0);
    ops.push({ type: "put", key: hlcFloorKey, value: pack(this.floor) });
    return this.floor;
  }

  /** A durable batch that carried `floor` resolved. */
  landed(floor: number): void {
    if (floor > this.durableFloor) this.durableFloor = floor;
  }

  /** A batch that carried a floor may not have landed: make the next write carry one. */
  failed(): void {
    this.floor = 0;
  }
}
