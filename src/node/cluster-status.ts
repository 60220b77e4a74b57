import type { ClusterStatus } from "../api/cluster-handler.js";
import { defaultReplication } from "../catalog/table-definition.js";
import { movingPartitionCount } from "../handoff/ownership-plan.js";
import type { Member } from "../membership/member.js";
import { partitionShares, type RingState } from "../ring/ring-state.js";
import { formatHostPort } from "./seed-address.js";

/**
 * The body of GET /v1/cluster from this node's membership view and ring. Every member the view
 * knows is listed (sorted by id), with the partitions the ring gives it; a ring member the view
 * has not heard of yet (a restart before the first gossip) is listed as "down" with no address.
 * `pendingTransfers` counts the partitions still moving while the ring is in transition
 * (handoff/ownership-plan.ts), measured on preference lists of up to `nMax` replicas (the
 * largest n of any table; handoff/ownership-transfer.ts nMaxOf).
 */
export function clusterStatus(selfId: string, members: readonly Member[], ring: RingState | undefined, nMax: number = defaultReplication.n): ClusterStatus {
  const shares = ring === undefined ? new Map<string, number>() : partitionShares(ring);
  const listed = members.map((m) => ({
    id: m.id,
    address: formatHostPort(m.address.host, m.address.peerPort),
    clientUrl: `http://${formatHostPort(m.address.host, m.address.clientPort)}`,
    state: m.state,
    partitions: shares.get(m.id) ?? 0,
  }));
  const known = new Set(members.map((m) => m.id));
  for (const [id, partitions] of shares) {
    if (!known.has(id)) listed.push({ id, address: "", clientUrl: "", state: "down", partitions });
  }
  listed.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return {
    self: selfId,
    ringVersion: ring?.version ?? 0,
    partitionCount: ring?.partitionCount ?? 0,
    members: listed,
    pendingTransfers: ring === undefined ? 0 : movingPartitionCount(ring, nMax),
  };
}
