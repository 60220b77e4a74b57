import { assert } from "../assert.js";
import type { NodeId } from "../runtime/network.js";
import type { RingState } from "./ring-state.js";

/**
 * What changes hands between two rings: the partitions a handoff plan must transfer (Riak's
 * ownership handoff). Both rings must have the same partition count; a resize is another plan.
 */
export interface PartitionTransfer {
  readonly partition: number;
  readonly from: NodeId;
  readonly to: NodeId;
}

/** The partitions whose owner differs between `before` and `after`, ascending. */
export function ringDiff(before: RingState, after: RingState): PartitionTransfer[] {
  assertComparable(before, after);
  const transfers: PartitionTransfer[] = [];
  for (let p = 0; p < before.partitionCount; p++) {
    const from = before.owners[p]!;
    const to = after.owners[p]!;
    if (from !== to) transfers.push({ partition: p, from, to });
  }
  return transfers;
}

/** How many partitions change owner between `before` and `after`. */
export function movedPartitionCount(before: RingState, after: RingState): number {
  assertComparable(before, after);
  let moved = 0;
  for (let p = 0; p < before.partitionCount; p++) if (before.owners[p] !== after.owners[p]) moved++;
  return moved;
}

function assertComparable(before: RingState, after: RingState): void {
  assert(before.partitionCount === after.partitionCount, `cannot diff rings of ${before.partitionCount} and ${after.partitionCount} partitions`);
}
