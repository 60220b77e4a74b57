import type { NodeId } from "../runtime/network.js";
import { preferenceList } from "../ring/preference-list.js";
import { previousRing, type RingState } from "../ring/ring-state.js";

/**
 * Which data a ring in transition must move (issue 6, item 2), as pure functions of the ring:
 * a partition moves when some node is in its new preference list but was not in its old one,
 * for some replica count up to `nMax` (tables choose n; with zones a shorter list need not be a
 * prefix of a longer one, so every n counts). The gaining node pulls the partition from the
 * old list's nodes (Dynamo paper, section 4.9: "the nodes that no longer own key ranges
 * transfer them to the new node"; here the new node asks, so a restart resumes by itself).
 */
export interface IncomingPartition {
  readonly partition: number;
  /** The partition's old preference list of nMax nodes: where its data is. */
  readonly sources: readonly NodeId[];
}

/** The partitions `self` gains in `ring`'s transition, ascending; empty for a settled ring. */
export function incomingPartitions(ring: RingState, self: NodeId, nMax: number): IncomingPartition[] {
  const before = previousRing(ring);
  if (before === undefined) return [];
  const incoming: IncomingPartition[] = [];
  for (let p = 0; p < ring.partitionCount; p++) {
    if (gainers(ring, before, p, nMax).has(self)) incoming.push({ partition: p, sources: preferenceList(before, p, nMax) });
  }
  return incoming;
}

/** Every node that gains some partition in `ring`'s transition, sorted: who must report done. */
export function receivingNodes(ring: RingState, nMax: number): NodeId[] {
  const before = previousRing(ring);
  if (before === undefined) return [];
  const all = new Set<NodeId>();
  for (let p = 0; p < ring.partitionCount; p++) for (const id of gainers(ring, before, p, nMax)) all.add(id);
  return [...all].sort();
}

/** How many partitions gain a node in `ring`'s transition (GET /v1/cluster `pendingTransfers`). */
export function movingPartitionCount(ring: RingState, nMax: number): number {
  const before = previousRing(ring);
  if (before === undefined) return 0;
  let moving = 0;
  for (let p = 0; p < ring.partitionCount; p++) if (gainers(ring, before, p, nMax).size > 0) moving++;
  return moving;
}

function gainers(ring: RingState, before: RingState, partition: number, nMax: number): Set<NodeId> {
  const gained = new Set<NodeId>();
  for (let n = 1; n <= nMax; n++) {
    const was = preferenceList(before, partition, n);
    for (const id of preferenceList(ring, partition, n)) if (!was.includes(id)) gained.add(id);
  }
  return gained;
}
