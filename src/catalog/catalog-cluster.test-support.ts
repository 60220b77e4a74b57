import assert from "node:assert/strict";
import { Membership } from "../membership/membership.js";
import { claimRingHook } from "../node/claim-ring.js";
import { claimInitial } from "../ring/claim.js";
import { parseRing, type RingState } from "../ring/ring-state.js";
import type { NodeId } from "../runtime/network.js";
import type { Runtime } from "../runtime/runtime.js";
import { Simulation } from "../sim/simulation.js";
import { CatalogSync } from "./catalog-sync.js";
import { TableCatalog } from "./table-catalog.js";
import type { TableDefinition, TableSpec } from "./table-definition.js";

/**
 * Test support for the catalog's cluster tests: simulated nodes that run Membership (so "up
 * members" come from the real failure detector), a TableCatalog and its CatalogSync, wired the
 * way the node wires them (one dispatcher by message prefix). Not product code.
 */
export class CatalogTestNode {
  readonly membership: Membership<RingState>;
  readonly catalog: TableCatalog;
  readonly sync: CatalogSync;

  constructor(runtime: Runtime, options: { ids: readonly NodeId[]; ring: RingState; tablesMax: number; messageBytesMax?: number }) {
    this.membership = new Membership<RingState>(runtime, {
      self: { id: runtime.nodeId, address: { host: runtime.nodeId, peerPort: 9000, clientPort: 8000 } },
      seeds: options.ids.filter((id) => id !== runtime.nodeId),
      computeRing: claimRingHook({ partitionCount: 64 }),
      parseRing: (value) => {
        const parsed = parseRing(value);
        return parsed.ok ? parsed.ring : undefined;
      },
      ring: options.ring,
      intervals: { probeIntervalMs: 200, probeTimeoutMs: 80, indirectProbeTimeoutMs: 160, suspicionTimeoutMs: 1_000, gossipIntervalMs: 200, gossipTimeoutMs: 150 },
    });
    this.catalog = TableCatalog.open(runtime, { tablesMax: options.tablesMax, durableWrites: true });
    const membership = this.membership;
    this.sync = new CatalogSync({
      runtime,
      catalog: this.catalog,
      peers: () => membership.members().filter((m) => m.id !== runtime.nodeId && membership.isUp(m.id)).map((m) => m.id),
      syncIntervalMs: 1_000,
      requestTimeoutMs: 400,
      ...(options.messageBytesMax !== undefined ? { messageBytesMax: options.messageBytesMax } : {}),
    });
    runtime.network!.serve((from, message) => {
      const type = (message as { type?: unknown } | null)?.type;
      if (typeof type !== "string") return undefined;
      if (type.startsWith("membership.")) return this.membership.handle(from, message);
      if (type.startsWith("catalog.")) return this.sync.handle(from, message);
      return undefined;
    });
    this.membership.start();
    this.sync.start();
  }
}

export interface CatalogCluster {
  sim: Simulation;
  ids: NodeId[];
  node(id: NodeId): CatalogTestNode;
}

/** Boots `ids` on a fresh simulation and waits until every node counts every node as up. */
export async function catalogCluster(seed: number, ids = ["n1", "n2", "n3"], options: { tablesMax?: number; messageBytesMax?: number } = {}): Promise<CatalogCluster> {
  const sim = new Simulation({ seed });
  const claimed = claimInitial(ids.map((id) => ({ id })), { partitionCount: 64 });
  assert.ok(claimed.ok);
  for (const id of ids) sim.addNode(id, (runtime) => new CatalogTestNode(runtime, { ids, ring: claimed.ring, tablesMax: options.tablesMax ?? 64, ...options }));
  await sim.bootAll();
  const node = (id: NodeId): CatalogTestNode => {
    const instance = sim.node<CatalogTestNode>(id).instance;
    assert.ok(instance !== undefined, `node ${id} is not running`);
    return instance;
  };
  const allUp = () => ids.every((a) => ids.every((b) => node(a).membership.isUp(b)));
  const formed = await sim.runUntil(allUp, { deadlineMs: sim.now() + 10_000 });
  assert.equal(formed.reason, "predicate", "the cluster did not form");
  return { sim, ids, node };
}

export function tableSpec(name: string): TableSpec {
  return { name, replication: { n: 3, r: 2, w: 2 }, consistency: "eventual", conflicts: "siblings" };
}

/** What every running node's catalog lists, as "name#id" strings, per node. */
export function listings(cluster: CatalogCluster): string[][] {
  return cluster.ids.filter((id) => cluster.sim.isUp(id)).map((id) => cluster.node(id).catalog.list().map(describe));
}

/** True once every running node holds the same records (equal digests, so equal live tables too). */
export function converged(cluster: CatalogCluster): boolean {
  const all = cluster.ids.filter((id) => cluster.sim.isUp(id)).map((id) => cluster.node(id).catalog.digestBuckets().join(","));
  return all.every((digest) => digest === all[0]);
}

function describe(table: TableDefinition): string {
  return `${table.name}#${table.id}`;
}
