import type { IncomingMessage } from "node:http";
import type { ApiContext } from "./api-context.js";
import { sendJson } from "./respond.js";
import type { ShoalResponse } from "./shoal-response.js";

/**
 * `GET /v1/cluster` (issue 3, item 2): this node's view of the cluster. Any node answers; two
 * nodes agree once gossip has converged (same ringVersion, same member states).
 */
export interface ClusterMemberStatus {
  id: string;
  /** Peer address, "host:peerPort". */
  address: string;
  /** REST endpoint, "http://host:clientPort". */
  clientUrl: string;
  state: "up" | "suspect" | "down" | "joining" | "leaving";
  /** Partitions this member owns in the current ring (0 when not placed yet). */
  partitions: number;
}

export interface ClusterStatus {
  self: string;
  /** 0 before this node holds a ring (a joiner that has not heard from its seed yet). */
  ringVersion: number;
  partitionCount: number;
  members: ClusterMemberStatus[];
  /** Partitions still moving after a ring change (0 once the ring is settled: handoff/ownership-*.ts). */
  pendingTransfers: number;
}

export function getCluster(context: ApiContext, _req: IncomingMessage, res: ShoalResponse): void {
  sendJson(res, 200, context.cluster());
}
