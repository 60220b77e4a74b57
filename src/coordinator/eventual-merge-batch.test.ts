import { test } from "node:test";
import assert from "node:assert/strict";
import { claimInitial } from "../ring/claim.js";
import { ClusterNode } from "../sim/cluster-node.js";
import { itemKeyOf } from "../sim/eventual-workload.js";
import { Simulation } from "../sim/simulation.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import type { Quorum } from "./quorum-options.js";
import type { EventualCoordinator, EventualPutResult } from "./eventual-coordinator.js";

// The coordinator's replica merges batched per peer (replica/merge-batch.ts) on a simulated
// three-node cluster, n=3: every node is a primary of every key, so n1 coordinates each put
// itself and merges it into n2 and n3.

const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function cluster(seed: number, storage?: { syncDelayMs: number; lateDurability: boolean }): Promise<Simulation> {
  const ids = ["n1", "n2", "n3"];
  const sim = new Simulation({ seed, ...(storage !== undefined ? { storage } : {}) });
  const claimed = claimInitial(ids.map((id) => ({ id })), { partitionCount: 64 });
  assert.ok(claimed.ok);
  const intervals = { probeIntervalMs: 200, probeTimeoutMs: 80, indirectProbeTimeoutMs: 160, suspicionTimeoutMs: 1_000, gossipIntervalMs: 200, gossipTimeoutMs: 150 };
  const hintDelivery = { intervalMs: 100, backoffBaseMs: 100, backoffMaxMs: 1_000 };
  for (const id of ids) sim.addNode(id, (runtime) => ClusterNode.open(runtime, { seeds: ids, initialRing: claimed.ring, requestTimeoutMs: 400, membershipIntervals: intervals, hintDelivery }));
  await sim.bootAll();
  await sim.runUntil(sim.now() + 1_000);
  return sim;
}

const coordinatorOf = (sim: Simulation, id: string): EventualCoordinator => sim.node<ClusterNode>(id).instance!.coordinator;
const replicaOf = (sim: Simulation, id: string) => sim.node<ClusterNode>(id).instance!.replicas;

/** Starts one put per key at n1, all in one turn (not yet run: `sim.settle` runs them). */
function putMany(sim: Simulation, keys: string[], quorum: Quorum): Promise<EventualPutResult[]> {
  const coordinator = coordinatorOf(sim, "n1");
  const proposal = (text: string) => ({ value: encoder.encode(text), contentType: "text/plain", metadata: [], tombstone: false, expiresAtMs: null });
  return Promise.all(keys.map((key) => coordinator.put({ key: itemKeyOf(key), proposal: proposal(`v-${key}`), context: undefined, quorum, lww: false })));
}

function storedText(sim: Simulation, id: string, key: string): string[] {
  const set = replicaOf(sim, id).fetch(itemKeyOf(key));
  return set === undefined ? [] : dvvset.values(set).map((s) => decoder.decode(s.value));
}

test("puts started together send one replica.merges per peer, and every replica stores every put", async () => {
  const sim = await cluster(21);
  const keys = Array.from({ length: 12 }, (_, i) => `batch-${i}`);
  const before = { ...coordinatorOf(sim, "n1").merges.stats };
  const written = await sim.settle(putMany(sim, keys, { n: 3, r: 2, w: 2, dw: 0, pr: 0, pw: 0 }));
  assert.ok(written.every((result) => result.ok), JSON.stringify(written));
  const stats = coordinatorOf(sim, "n1").merges.stats;
  assert.equal(stats.merges - before.merges, 24, "twelve puts, two other replicas each");
  assert.equal(stats.messages - before.messages, 2, "one message per peer");
  await sim.runUntil(sim.now() + 500);
  for (const id of ["n1", "n2", "n3"]) for (const key of keys) assert.deepEqual(storedText(sim, id, key), [`v-${key}`], `${id} ${key}`);
});

test("a replica that crashes before its batch is durable answers none of it: puts needing it (w=3) fail, none is acknowledged on a lost copy", async () => {
  // Slow fsyncs: n2 commits the batch (readable) well before it is durable, and crashes then.
  const sim = await cluster(22, { syncDelayMs: 30, lateDurability: true });
  const keys = Array.from({ length: 6 }, (_, i) => `lost-${i}`);
  const writing = putMany(sim, keys, { n: 3, r: 2, w: 3, dw: 0, pr: 0, pw: 0 });
  const committed = await sim.runUntil(() => keys.every((key) => storedText(sim, "n2", key).length === 1), { deadlineMs: sim.now() + 1_000 });
  assert.equal(committed.reason, "predicate");
  sim.crash("n2");
  const written = await sim.settle(writing);
  for (const result of written) {
    assert.equal(result.ok, false, "a put acknowledged at w=3 while n2 lost its copy");
    assert.equal((result as { error: string }).error, "quorum");
  }
  await sim.restart("n2");
  for (const key of keys) assert.deepEqual(storedText(sim, "n2", key), [], "the crash lost n2's batch: it was not durable");
});
