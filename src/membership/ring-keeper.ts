import { assert } from "../assert.js";
import { compareRingStamps, stampOf, type RingRecord, type RingStamp, type VersionedRing } from "./ring-record.js";

/**
 * This node's current ring. It only moves forward: a ring is adopted when its stamp (version,
 * then origin) is newer than the current one, whoever sent it, so gossip in any order ends with
 * every node holding the same ring.
 */
export class RingKeeper<R extends VersionedRing> {
  private current: RingRecord<R> | undefined;
  private readonly listeners: Array<(record: RingRecord<R>) => void> = [];

  get record(): RingRecord<R> | undefined {
    return this.current;
  }

  get stamp(): RingStamp | null {
    return stampOf(this.current);
  }

  onAdopt(listener: (record: RingRecord<R>) => void): void {
    this.listeners.push(listener);
  }

  /** Adopts `record` when it is newer than the current ring; returns whether it did. */
  adopt(record: RingRecord<R>): boolean {
    assert(Number.isSafeInteger(record.ring.version) && record.ring.version >= 0, `a ring version must be a non-negative integer, got ${record.ring.version}`);
    if (compareRingStamps(stampOf(record), this.stamp) <= 0) return false;
    this.current = record;
    for (const listener of this.listeners) listener(record);
    return true;
  }
}
