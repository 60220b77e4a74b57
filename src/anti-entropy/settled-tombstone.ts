import type { Clock } from "../runtime/runtime.js";
import { tombstoneTimeOf } from "../replica/tombstone-index.js";
import type { DottedVersionVectorSet } from "../versioning/dotted-version-vector-set.js";
import type { Sibling } from "../versioning/sibling.js";

/**
 * ReplicaAccess.isSettledTombstone for a node whose tombstone GC waits `graceMs`: a set of
 * only tombstones whose newest one is at least half the grace old. Half, so that a clock up to
 * half the grace behind the collecting node's still stops copying before the reaps run
 * (README.md, "Tombstones").
 */
export function settledTombstone(clock: Clock, graceMs: number): (set: DottedVersionVectorSet<Sibling>) => boolean {
  return (set) => {
    const timeMs = tombstoneTimeOf(set);
    return timeMs !== undefined && timeMs <= clock.nowMs() - Math.floor(graceMs / 2);
  };
}
