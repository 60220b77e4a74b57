import { partitionOf } from "../ring/partition-hash.js";
import { preferenceList } from "../ring/preference-list.js";
import type { RingState } from "../ring/ring-state.js";
import type { NodeId } from "../runtime/network.js";
import { decodeItemKey } from "../storage/item-key.js";
import type { HintPlace, HintPlacement } from "./hint-delivery.js";
import type { HintKey } from "./hint-key.js";

/**
 * HintDelivery's placement over the node's ring (re-targeting and draining, hint-delivery.ts):
 * a target has departed when the ring is settled (no `previous`) and does not place it; a hint's
 * key lives on its preference list of the table's n (`nOf`), followed by the ring's other
 * members in preference order (the fallbacks a coordinator would use). During a transition,
 * or for a table whose n is not known here, nothing is placed: the hints wait.
 *
 * Example:
 *   placement: ringHintPlacement({ self: runtime.nodeId, ring: () => membership.ring(), nOf: (tableId) => eventualN(tableId) })
 */
export interface RingHintPlacementOptions {
  self: NodeId;
  ring: () => RingState | undefined;
  /** The replication n of the (eventual) table a hint belongs to; undefined when not known here. */
  nOf: (tableId: number) => number | undefined;
}

export function ringHintPlacement(options: RingHintPlacementOptions): HintPlacement {
  const settled = (): RingState | undefined => {
    const ring = options.ring();
    return ring === undefined || ring.previous !== undefined ? undefined : ring;
  };
  return {
    self: options.self,
    departed: (target) => {
      const ring = settled();
      return ring !== undefined && !ring.members.some((member) => member.id === target);
    },
    place: (hint: HintKey): HintPlace | undefined => {
      const ring = settled();
      const n = options.nOf(hint.tableId);
      if (ring === undefined || n === undefined || ring.members.length === 0) return undefined;
      const partition = partitionOf(decodeItemKey(hint.key).partitionKey, ring.partitionCount);
      const primaries = preferenceList(ring, partition, Math.min(n, ring.members.length));
      const others = preferenceList(ring, partition, ring.members.length).filter((id) => !primaries.includes(id));
      return { primaries, others };
    },
  };
}
