import { assert } from "../assert.js";
import { compareRingStamps, conflictingStamps, stampOf, type RingRecord, type RingStamp, type VersionedRing } from "./ring-record.js";

/**
 * This node's current ring. It only moves forward: a ring is adopted when its stamp (version,
 * then origin) is newer than the current one, whoever sent it, so gossip in any order ends with
 * every node holding the same ring.
 *
 * With `hashOf` (agreed rings, ring-register.ts) the stamp carries the ring's content hash and a
 * ring past the first version is adopted only for a higher version: a ring of the version this
 * node holds with another hash conflicts with the decided one (only a decided ring is ever
 * published, so it can only come from a node that does not agree rings) and is refused and
 * counted (`conflicts`), never adopted.
 */
export class RingKeeper<R extends VersionedRing> {
  private current: RingRecord<R> | undefined;
  private readonly listeners: Array<(record: RingRecord<R>) => void> = [];
  /** Rings refused because another ring of their version is held here (agreed rings only). */
  conflicts = 0;

  constructor(private readonly hashOf?: (ring: R) => string) {}

  get record(): RingRecord<R> | undefined {
    return this.current;
  }

  get stamp(): RingStamp | null {
    return stampOf(this.current, this.hashOf);
  }

  /** Whether rings are identified by (version, hash) and published only once decided. */
  get agreed(): boolean {
    return this.hashOf !== undefined;
  }

  hash(ring: R): string | undefined {
    return this.hashOf?.(ring);
  }

  onAdopt(listener: (record: RingRecord<R>) => void): void {
    this.listeners.push(listener);
  }

  /** Counts a peer's stamp that names another ring of the version held here. */
  noteStamp(stamp: RingStamp | null): void {
    if (conflictingStamps(this.stamp, stamp)) this.conflicts++;
  }

  /** Adopts `record` when it is newer than the current ring; returns whether it did. */
  adopt(record: RingRecord<R>): boolean {
    assert(Number.isSafeInteger(record.ring.version) && record.ring.version >= 0, `a ring version must be a non-negative integer, got ${record.ring.version}`);
    const stamp = stampOf(record, this.hashOf);
    if (compareRingStamps(stamp, this.stamp) <= 0) {
      this.noteStamp(stamp);
      return false;
    }
    this.current = record;
    for (const listener of this.listeners) listener(record);
    return true;
  }
}
