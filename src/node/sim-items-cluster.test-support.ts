import assert from "node:assert/strict";
import { defaultLimits } from "../limits.js";
import { Membership } from "../membership/membership.js";
import { claimInitial } from "../ring/claim.js";
import { parseRing, type RingState } from "../ring/ring-state.js";
import { Simulation } from "../sim/simulation.js";
import { claimRingHook } from "./claim-ring.js";
import { NodeItems } from "./node-items.js";
import { PeerDispatcher } from "./peer-dispatcher.js";

/**
 * A cluster of in-process nodes on the simulator (virtual time, simulated network and
 * storage), each with the product's data path (NodeItems) and membership routed through a
 * PeerDispatcher as ShoalNode does: for tests of the ClusterCoordinator and tombstone GC.
 */
export interface SimItemsNode {
  membership: Membership<RingState>;
  items: NodeItems;
}

export interface SimItemsCluster {
  sim: Simulation;
  ring: RingState;
  node(id: string): SimItemsNode;
}

export const simIntervals = { probeIntervalMs: 200, probeTimeoutMs: 80, indirectProbeTimeoutMs: 160, suspicionTimeoutMs: 1_000, gossipIntervalMs: 200, gossipTimeoutMs: 150 };

export async function simItemsCluster(
  seed: number,
  options: {
    ids?: string[];
    tombstoneGraceMs?: number;
    /** A node's disk state for the acceptor relearn at each boot (NodeItemsOptions.acceptorDisk); absent: no relearn. */
    acceptorDisk?: (id: string, incarnation: number) => { fresh: boolean; unfinished: boolean } | undefined;
  } = {},
): Promise<SimItemsCluster> {
  const ids = options.ids ?? ["n1", "n2", "n3"];
  const sim = new Simulation({ seed });
  const claimed = claimInitial(ids.map((id) => ({ id })), { partitionCount: 64 });
  assert.ok(claimed.ok);
  const ring = claimed.ring;
  for (const id of ids) {
    sim.addNode(id, (runtime): SimItemsNode => {
      const membership = new Membership<RingState>(runtime, {
        self: { id, address: { host: id, peerPort: 9000, clientPort: 8000 } },
        seeds: ids.filter((other) => other !== id),
        computeRing: claimRingHook({ partitionCount: 64 }),
        parseRing: (value) => {
          const parsed = parseRing(value);
          return parsed.ok ? parsed.ring : undefined;
        },
        ring,
        intervals: simIntervals,
      });
      const acceptorDisk = options.acceptorDisk?.(id, sim.node(id).incarnation);
      const items = NodeItems.open(runtime, {
        ...(acceptorDisk !== undefined ? { acceptorDisk } : {}),
        membership,
        limits: defaultLimits,
        requestTimeoutMs: 400,
        tombstoneGraceMs: options.tombstoneGraceMs ?? 1_000,
        tombstoneIntervalMs: 200,
        nOf: () => 3,
        hintDelivery: { intervalMs: 100, backoffBaseMs: 100, backoffMaxMs: 1_000 },
      });
      const dispatcher = new PeerDispatcher();
      dispatcher.route("membership.", (from, message) => membership.handle(from, message));
      for (const [prefix, handler] of items.routes()) dispatcher.route(prefix, handler);
      runtime.network!.serve(dispatcher.handle);
      membership.start();
      items.start();
      return { membership, items };
    });
  }
  await sim.bootAll();
  await sim.runUntil(sim.now() + 1_000);
  return { sim, ring, node: (id) => sim.node<SimItemsNode>(id).instance! };
}
