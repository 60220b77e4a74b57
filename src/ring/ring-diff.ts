import { assert } from "../assert.js";
import type { NodeId } from "../runtime/network.js";
import { preferenceList } from "./preference-list.js";
import type { RingState } from "./ring-state.js";

/**
 * What changes hands between two rings: the partitions a handoff plan must transfer (Riak's
 * ownership handoff), and, because every key lives on the n nodes of its preference list and
 * not only on its owner, which nodes join or leave each partition's replica set. Both rings
 * must have the same partition count; a resize is another plan.
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

export interface ReplicaChange {
  readonly partition: number;
  /** Nodes now in the partition's preference list that were not: they must receive its data. */
  readonly added: readonly NodeId[];
  /** Nodes no longer in it: they may drop its data once the added nodes have it. */
  readonly removed: readonly NodeId[];
}

/** The partitions whose preference list of `n` primaries differs between the rings, ascending. */
export function replicaChanges(before: RingState, after: RingState, n: number): ReplicaChange[] {
  assertComparable(before, after);
  const changes: ReplicaChange[] = [];
  for (let p = 0; p < before.partitionCount; p++) {
    const was = preferenceList(before, p, n);
    const is = preferenceList(after, p, n);
    const added = is.filter((id) => !was.includes(id));
    const removed = was.filter((id) => !is.includes(id));
    if (added.length > 0 || removed.length > 0) changes.push({ partition: p, added, removed });
  }
  return changes;
}

function assertComparable(before: RingState, after: RingState): void {
  assert(before.partitionCount === after.partitionCount, `cannot diff rings of ${before.partitionCount} and ${after.partitionCount} partitions`);
}
