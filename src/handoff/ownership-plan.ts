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

/**
 * Which of a partition's old replicas a transfer must read to the end, and how many (paxos/README.md,
 * "Replacing a dead node"). A strong value is chosen only once a strict majority of the old list
 * accepted it, so any n - majority(n) + 1 = ceil(n/2) of them hold every chosen value (n = 3: 2,
 * n = 2: 1, n = 1: 1), provided they are fenced first and the read is a full round; an eventual
 * table reads the same number, which holds every write acknowledged by a majority.
 *
 * - Nobody departed (a join, a leave, a replace of a running node): a strict majority of the
 *   whole list, as before (`departed` is only a belief; with everyone there, keep the margin).
 * - Some departed (`departed`: dead and no longer placed, i.e. replaced or removed by a plan):
 *   ceil(n/2) of the others. With n = 2 and one dead, that is the one survivor.
 * - Fewer others than that (n = 1 and its node dead, or more departed than the list can lose):
 *   `lost`. What only the departed held is gone; the transfer reads every survivor and goes on
 *   (the plan commit refuses such a plan unless forced: lostTablesOfPlan).
 */
export interface OldReplicas {
  /** The old replicas to read: the list without the departed ones. */
  readonly live: readonly NodeId[];
  /** How many of `live` must have been read to the end (0 when nothing is left to read). */
  readonly needed: number;
  /** Values only departed replicas held may be gone. */
  readonly lost: boolean;
}

export function majorityOf(count: number): number {
  return Math.floor(count / 2) + 1;
}

export function oldReplicasToRead(sources: readonly NodeId[], departed: (id: NodeId) => boolean): OldReplicas {
  const live = sources.filter((id) => !departed(id));
  if (live.length === sources.length) return { live, needed: majorityOf(sources.length), lost: false };
  const needed = sources.length - majorityOf(sources.length) + 1;
  return live.length >= needed ? { live, needed, lost: false } : { live, needed: live.length, lost: true };
}

/**
 * The old acceptor set the transfer's read of a key uses instead of `previous` (a phase needs a
 * strict majority of it): every strict majority of the result is at least oldReplicasToRead's
 * `needed` old acceptors, and the departed ones are never needed. Nobody departed: `previous`.
 * n even with a departed node: `previous` without one departed node (n - 1 nodes, whose strict
 * majority is n/2 = ceil(n/2)); n odd: `previous` (its majority is already ceil(n/2), all alive
 * ones suffice). Lost: the survivors (best effort), possibly none.
 */
export function transferOldAcceptors(previous: readonly NodeId[], departed: (id: NodeId) => boolean): NodeId[] {
  const old = oldReplicasToRead(previous, departed);
  if (old.lost) return [...old.live];
  if (old.live.length === previous.length || previous.length % 2 === 1) return [...previous];
  const dropped = previous.find(departed)!;
  return previous.filter((id) => id !== dropped);
}

/** A table as the plan commit sees it (the catalog's). */
export interface PlanTable {
  readonly name: string;
  readonly n: number;
  readonly strong: boolean;
}

/**
 * The tables `next` (a ring in transition, committed from the settled ring `before`) would lose
 * data of: some partition's old list for the table's n has too few replicas left once the nodes
 * that are down and that `next` no longer places are gone (oldReplicasToRead `lost`). With n = 1,
 * any partition of a dead node being replaced or removed.
 */
export function lostTablesOfPlan(before: RingState, next: RingState, tables: readonly PlanTable[], isUp: (id: NodeId) => boolean): PlanTable[] {
  const departed = (id: NodeId) => !isUp(id) && !next.members.some((m) => m.id === id);
  if (!before.members.some((m) => departed(m.id))) return [];
  // Once per replica count (tables share a few), not per table: the leader runs this in its commit.
  const losesAt = new Map<number, boolean>();
  const loses = (n: number): boolean => {
    for (let p = 0; p < before.partitionCount; p++) {
      const was = preferenceList(before, p, n);
      if (was.some(departed) && oldReplicasToRead(was, departed).lost) return true;
    }
    return false;
  };
  return tables.filter((table) => {
    const n = Math.min(table.n, before.members.length);
    if (!losesAt.has(n)) losesAt.set(n, loses(n));
    return losesAt.get(n)!;
  });
}
