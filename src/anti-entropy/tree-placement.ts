import { partitionOf } from "../ring/partition-hash.js";
import { preferenceList } from "../ring/preference-list.js";
import type { RingState } from "../ring/ring-state.js";
import type { NodeId } from "../runtime/network.js";
import { itemKeyTableId, itemPartitionKey } from "../storage/item-key.js";
import type { TreeId } from "./segment-index.js";

/**
 * The node's answers to "which tree does this key belong to" and "which replicas hold this
 * tree", from the ring and the table catalog. A tree is per (partition, n): the partition of
 * the item's partition key on the ring, and the n of its table's replication (Riak's {index,
 * n}). `nOf` returns undefined for a table anti-entropy must not cover (a strong table, whose
 * acceptor records are not sibling sets, or a table this node does not know yet).
 *
 * Example (the node):
 *   const placement = treePlacement({
 *     ring: () => membership.ring(),
 *     nOf: (tableId) => { const t = tablesById.get(tableId); return t?.consistency === "eventual" ? t.replication.n : undefined; },
 *   });
 */
export interface TreePlacementOptions {
  /** The node's current ring; undefined before it has one (then nothing is placed). */
  ring: () => RingState | undefined;
  nOf: (tableId: number) => number | undefined;
}

export interface TreePlacement {
  placeOf(itemKey: Uint8Array): TreeId | undefined;
  replicasOf(tree: TreeId): NodeId[];
}

export function treePlacement(options: TreePlacementOptions): TreePlacement {
  return {
    placeOf(itemKey) {
      // Asked for every replica write (IndexedStorage): the table id and partition key are read in place, not decoded.
      const ring = options.ring();
      const n = options.nOf(itemKeyTableId(itemKey));
      if (ring === undefined || n === undefined) return undefined;
      return { partition: partitionOf(itemPartitionKey(itemKey), ring.partitionCount), n };
    },
    replicasOf(tree) {
      const ring = options.ring();
      return ring !== undefined && tree.partition < ring.partitionCount ? preferenceList(ring, tree.partition, tree.n) : [];
    },
  };
}
