import type { StrongPlacement } from "../paxos/strong-coordinator.js";
import { partitionOf } from "../ring/partition-hash.js";
import { preferenceList } from "../ring/preference-list.js";
import type { RingState } from "../ring/ring-state.js";
import { decodeItemKey } from "../storage/item-key.js";

/**
 * The strong path's acceptors for a key (DESIGN.md, "The strong path": "Acceptors are the
 * key's N primary replicas, strictly"): the first n distinct owners clockwise from the
 * partition of the key's partition key, as the eventual coordinator places it, with no
 * fallbacks. The simulated cluster's ring only changes when membership claims a new one;
 * partitions moving (the `previous` set) come with the elasticity issue.
 */
export function ringStrongPlacement(ring: () => RingState | undefined): StrongPlacement {
  return {
    acceptorsFor(itemKey, n) {
      const current = ring();
      if (current === undefined) return undefined;
      const partition = partitionOf(decodeItemKey(itemKey).partitionKey, current.partitionCount);
      return { acceptors: preferenceList(current, partition, n) };
    },
  };
}
