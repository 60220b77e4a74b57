import { test } from "node:test";
import assert from "node:assert/strict";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import type { DottedVersionVectorSet } from "../versioning/dotted-version-vector-set.js";
import type { Sibling } from "../versioning/sibling.js";
import { rootsEqual, store, testCluster, testKey, written, type TestCluster } from "./anti-entropy-cluster.test-support.js";
import type { AntiEntropyOptions } from "./anti-entropy.js";
import type { ExchangeResult, RootsResult } from "./exchange.js";
import { ExchangeScheduler } from "./exchange-scheduler.js";
import type { TreeId } from "./segment-index.js";

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
  // One "roots" round trip per peer compares every tree (two peers here), not one per tree.
  assert.ok(n1.stats.messages - before.messages <= 2 * 2, `${n1.stats.messages - before.messages} messages`);
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

test("agreeing replicas cost one roots round trip per peer and round, however many trees", async () => {
  const cluster = await testCluster(15, { partitionCount: 64, antiEntropy: { schedule, rebuild } });
  const entries = Array.from({ length: 300 }, (_, i): [Uint8Array, DottedVersionVectorSet<Sibling>] => [testKey(`k${i}`), written(`v${i}`, "n1")]);
  for (const id of cluster.ids) await store(cluster, id, entries);
  for (const id of cluster.ids) cluster.node(id).antiEntropy.loadNow();
  const n1 = cluster.node("n1").antiEntropy;
  await cluster.sim.settle(n1.round());
  const trees = n1.trees.treeIds().length;
  assert.ok(trees > 50, `${trees} trees`);
  assert.equal(n1.stats.exchangesAgreed, trees);
  assert.equal(n1.stats.keysDiffering, 0);
  // Two peers, 32 trees per round trip: at most 2 * 2 round trips of 2 messages, not one per tree.
  assert.ok(n1.stats.messages <= 8, `${n1.stats.messages} messages for ${trees} trees`);
  // A tree that differs still gets its full exchange after the roots comparison.
  await store(cluster, "n2", [[testKey("k7"), written("newer", "n2", cluster.node("n2").replicas.fetch(testKey("k7")))]]);
  await cluster.sim.settle(cluster.node("n2").antiEntropy.round());
  await cluster.sim.settle(n1.round());
  assert.ok(rootsEqual(cluster, "n1", "n2"));
});

/** A scheduler over fake deps: every tree's replicas are n1, n2, n3; exchanges are recorded. */
function fakeScheduler(compareRoots: ((peer: string, trees: readonly TreeId[]) => Promise<RootsResult>) | undefined) {
  const calls: { peer: string; tree: TreeId; rootDiffers: boolean }[] = [];
  const trees = Array.from({ length: 6 }, (_, partition): TreeId => ({ partition, n: 3 }));
  const agreed: ExchangeResult = { ok: true, agreed: true, complete: true, keysDiffering: 0, keysRepaired: 0, segmentsDeferred: 0, messages: 2, bytes: 10 };
  const scheduler = new ExchangeScheduler(
    {
      self: "n1",
      clock: { nowMs: () => 1_000 },
      timers: { setTimeout: () => assert.fail("no timer expected"), clearTimeout: () => undefined },
      random: { next: () => 0, int: () => 0, bytes: (length) => new Uint8Array(length) },
      isLoaded: () => true,
      trees: () => trees,
      replicasOf: () => ["n1", "n2", "n3"],
      isUp: () => true,
      exchange: async (peer, tree, _pace, rootDiffers) => {
        calls.push({ peer, tree, rootDiffers });
        return agreed;
      },
      ...(compareRoots === undefined ? {} : { compareRoots: (peer: string, t: readonly TreeId[]) => compareRoots(peer, t) }),
    },
    schedule,
  );
  return { scheduler, calls, trees };
}

test("a round exchanges only the trees whose roots differ, and every tree when the peer does not know the roots request", async () => {
  const differing = fakeScheduler(async (_peer, trees) => ({ ok: true, differs: trees.map((t) => t.partition % 3 === 0), messages: 2, bytes: 100 }));
  await differing.scheduler.round();
  assert.deepEqual(differing.calls.map((c) => [c.tree.partition, c.rootDiffers]), [[0, true], [3, true]]);
  assert.equal(differing.scheduler.stats.exchanges, 6);
  assert.equal(differing.scheduler.stats.exchangesAgreed, 6);
  assert.equal(differing.scheduler.stats.lastCompleteMs.size, 6);
  const old = fakeScheduler(async () => ({ ok: false, error: "anti-entropy.roots: unknown anti-entropy message anti-entropy.roots", unsupported: true, messages: 2, bytes: 50 }));
  await old.scheduler.round();
  assert.deepEqual(old.calls.map((c) => [c.tree.partition, c.rootDiffers]), old.trees.map((t) => [t.partition, false]));
  const down = fakeScheduler(async () => ({ ok: false, error: "anti-entropy.roots: timeout", unsupported: false, messages: 1, bytes: 50 }));
  await down.scheduler.round();
  assert.equal(down.calls.length, 0);
  assert.equal(down.scheduler.stats.exchangesFailed, 6);
});
