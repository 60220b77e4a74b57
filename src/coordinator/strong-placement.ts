import type { StrongPlacement } from "../paxos/strong-coordinator.js";
import { partitionOf } from "../ring/partition-hash.js";
import { preferenceList } from "../ring/preference-list.js";
import type { RingState } from "../ring/ring-state.js";
import { decodeItemKey } from "../storage/item-key.js";

/**
 * The strong path's acceptors of a key on a node's ring (DESIGN.md, "The strong path":
 * "Acceptors are the key's N primary replicas, strictly"): the first n distinct owners from the
 * partition of the key's partition key, as the eventual path places it, never a fallback; n is
 * capped at the ring's member count, like the eventual quorums. Partitions moving (`previous`)
 * come with the elasticity issue.
 */
export function ringStrongPlacement(ring: () => RingState | undefined): StrongPlacement {
  return {
    acceptorsFor(itemKey, n) {
      const current = ring();
      if (current === undefined) return undefined;
      const partition = partitionOf(decodeItemKey(itemKey).partitionKey, current.partitionCount);
      return { acceptors: preferenceList(current, partition, Math.min(n, current.members.length)) };
    },
  };
}
