import type { StrongPlacement } from "../paxos/strong-coordinator.js";
import type { NodeId } from "../runtime/network.js";
import { partitionOf } from "../ring/partition-hash.js";
import { preferenceList } from "../ring/preference-list.js";
import { previousRing, type RingState } from "../ring/ring-state.js";
import { decodeItemKey } from "../storage/item-key.js";

/**
 * The strong path's acceptors of a key on a node's ring (DESIGN.md, "The strong path":
 * "Acceptors are the key's N primary replicas, strictly"): the first n distinct owners from the
 * partition of the key's partition key, as the eventual path places it, never a fallback; n is
 * capped at the ring's member count, like the eventual quorums.
 *
 * While the ring is in transition (ring-state.ts, `previous`) and the key's old preference
 * list is another set of nodes, the old list comes too: CASPaxos then needs a majority of both
 * in every phase (joint consensus, issue 4), so a value a majority of the old set accepted is
 * seen by every round until the ownership transfer copied it to a majority of the new set.
 */
export function ringStrongPlacement(ring: () => RingState | undefined): StrongPlacement {
  return {
    acceptorsFor(itemKey, n) {
      const current = ring();
      if (current === undefined) return undefined;
      return strongAcceptors(current, partitionOf(decodeItemKey(itemKey).partitionKey, current.partitionCount), n);
    },
    // Ballots carry the ring version and acceptors refuse older ones (paxos/README.md,
    // "Ring-version fencing").
    ringVersion: () => ring()?.version,
  };
}

/** A partition's acceptors on `ring`, and its previous acceptors when the transition changed them, with the ring's version. */
export function strongAcceptors(ring: RingState, partition: number, n: number): { acceptors: NodeId[]; previous?: NodeId[]; ringVersion: number } {
  const acceptors = preferenceList(ring, partition, Math.min(n, ring.members.length));
  const before = previousRing(ring);
  if (before === undefined) return { acceptors, ringVersion: ring.version };
  const previous = preferenceList(before, partition, Math.min(n, before.members.length));
  return sameNodes(acceptors, previous) ? { acceptors, ringVersion: ring.version } : { acceptors, previous, ringVersion: ring.version };
}

function sameNodes(a: readonly NodeId[], b: readonly NodeId[]): boolean {
  return a.length === b.length && a.every((id) => b.includes(id));
}
