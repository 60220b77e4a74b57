import type { NodeId } from "../runtime/network.js";
import type { Member } from "./member.js";

/**
 * Who computes the next ring when membership changes: the member with the smallest id among
 * those "up" in this node's view; while nobody is up yet (a cluster booting, every node
 * "joining"), the smallest joining id. It is deterministic and needs no election, at the cost
 * that two views can name two leaders (each side of a partition, or a node that has not heard
 * of a smaller one yet). Both may then propose a ring; with agreed rings (ring-register.ts) a
 * majority of the current ring's members decides which one is the next version, and the other
 * leader adopts it and recomputes on top of it. Without agreement, gossip keeps the higher
 * version (then the smaller origin).
 */
export function ringLeader(members: readonly Member[]): NodeId | undefined {
  return smallestIdIn(members, "up") ?? smallestIdIn(members, "joining");
}

function smallestIdIn(members: readonly Member[], state: Member["state"]): NodeId | undefined {
  let smallest: NodeId | undefined;
  for (const m of members) if (m.state === state && (smallest === undefined || m.id < smallest)) smallest = m.id;
  return smallest;
}
