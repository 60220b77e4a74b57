import { test } from "node:test";
import assert from "node:assert/strict";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import type { DottedVersionVectorSet } from "../versioning/dotted-version-vector-set.js";
import type { Sibling } from "../versioning/sibling.js";
import { rootsEqual, store, testCluster, testKey, written, type TestCluster } from "./anti-entropy-cluster.test-support.js";
import type { AntiEntropyOptions } from "./anti-entropy.js";

// The background schedule on a simulated cluster: it rebuilds a replica that lost its data
// without any read touching the keys, costs one root comparison per tree once replicas agree,
// holds its traffic to the byte rate, and stops when told.

const schedule = { intervalMs: 1_000, concurrency: 2, bytesPerSecond: 1_000_000 };
const rebuild = { entriesPerStep: 500, stepIntervalMs: 5, passIntervalMs: 60_000 };

async function clusterWithLostReplica(seed: number, keys: number, overrides: Partial<AntiEntropyOptions> = {}): Promise<{ cluster: TestCluster; entries: [Uint8Array, DottedVersionVectorSet<Sibling>][] }> {
  const cluster = await testCluster(seed, { antiEntropy: { schedule, rebuild, ...overrides } });
  const entries = Array.from({ length: keys }, (_, i): [Uint8Array, DottedVersionVectorSet<Sibling>] => [testKey(`k${i}`), written(`v${i}`, "n1")]);
  await store(cluster, "n1", entries);
  await store(cluster, "n2", entries);
  return { cluster, entries };
}

function converged(cluster: TestCluster): boolean {
  return rootsEqual(cluster, "n1", "n3") && rootsEqual(cluster, "n2", "n3");
}

test("the schedule rebuilds a replica that lost its data, and then agreeing replicas cost one root comparison per tree", async () => {
  const { cluster, entries } = await clusterWithLostReplica(11, 400);
  for (const id of cluster.ids) cluster.node(id).antiEntropy.start();
  await cluster.sim.runUntil(() => converged(cluster) && cluster.node("n3").antiEntropy.loaded, { deadlineMs: cluster.sim.now() + 60_000 });
  assert.ok(converged(cluster), "the replicas converged within a minute of virtual time");
  for (const [key, set] of entries) assert.ok(dvvset.equal(cluster.node("n3").replicas.fetch(key)!, set));
  // Let the exchanges in flight finish; two replicas may both push one key, so at least 400.
  await cluster.sim.runUntil(cluster.sim.now() + 5_000);
  const stats = cluster.ids.map((id) => cluster.node(id).antiEntropy.stats);
  assert.ok(stats.reduce((sum, s) => sum + s.keysRepaired, 0) >= 400);
  assert.ok(stats.some((s) => s.lastCompleteMs.size > 0));
  const n1 = cluster.node("n1").antiEntropy;
  const before = { ...n1.stats };
  await cluster.sim.settle(n1.round());
  assert.equal(n1.stats.messages - before.messages, 2 * cluster.trees().length);
  assert.equal(n1.stats.exchangesAgreed - before.exchangesAgreed, cluster.trees().length);
  for (const id of cluster.ids) cluster.node(id).antiEntropy.stop();
});

test("a round's traffic is held to bytesPerSecond of virtual time", async () => {
  const bytesPerSecond = 20_000;
  const { cluster } = await clusterWithLostReplica(12, 300, { schedule: { ...schedule, bytesPerSecond } });
  for (const id of cluster.ids) cluster.node(id).antiEntropy.loadNow();
  const n1 = cluster.node("n1").antiEntropy;
  const startMs = cluster.sim.now();
  await cluster.sim.settle(n1.round());
  const elapsedMs = cluster.sim.now() - startMs;
  assert.ok(n1.stats.keysRepaired > 0);
  // Each round trip's bytes delay the next one; only the last round trip's wait is not needed.
  assert.ok(elapsedMs >= ((n1.stats.bytes - 40_000) * 1000) / bytesPerSecond, `${n1.stats.bytes} bytes in ${elapsedMs} ms`);
  assert.ok(n1.stats.bytes > 60_000, `${n1.stats.bytes} bytes is too few to show pacing`);
});

test("a stopped schedule starts no more exchanges", async () => {
  const { cluster } = await clusterWithLostReplica(13, 50);
  for (const id of cluster.ids) cluster.node(id).antiEntropy.start();
  await cluster.sim.runUntil(() => cluster.ids.some((id) => cluster.node(id).antiEntropy.stats.exchanges > 0), { deadlineMs: cluster.sim.now() + 30_000 });
  for (const id of cluster.ids) cluster.node(id).antiEntropy.stop();
  await cluster.sim.runUntil(cluster.sim.now() + 5_000);
  const counts = cluster.ids.map((id) => cluster.node(id).antiEntropy.stats.exchanges);
  await cluster.sim.runUntil(cluster.sim.now() + 20_000);
  assert.deepEqual(cluster.ids.map((id) => cluster.node(id).antiEntropy.stats.exchanges), counts);
});

test("one seed run twice gives the same exchanges and the same trace", async () => {
  const run = async () => {
    const { cluster } = await clusterWithLostReplica(14, 100);
    for (const id of cluster.ids) cluster.node(id).antiEntropy.start();
    await cluster.sim.runUntil(cluster.sim.now() + 20_000);
    for (const id of cluster.ids) cluster.node(id).antiEntropy.stop();
    const stats = cluster.ids.map((id) => {
      const { lastCompleteMs, ...counters } = cluster.node(id).antiEntropy.stats;
      return { ...counters, lastCompleteMs: [...lastCompleteMs].sort() };
    });
    return { stats, trace: cluster.sim.traceHash(), converged: converged(cluster) };
  };
  const first = await run();
  assert.ok(first.converged);
  assert.deepEqual(await run(), first);
});
