import { test } from "node:test";
import assert from "node:assert/strict";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import type { DottedVersionVectorSet } from "../versioning/dotted-version-vector-set.js";
import type { Sibling } from "../versioning/sibling.js";
import { exchangeAll, rootsEqual, store, testCluster, testKey, written, type TestCluster } from "./anti-entropy-cluster.test-support.js";

// Merkle exchanges between simulated replicas (ReplicaService over IndexedStorage, the
// simulator's network and disks): what they cost and what they repair.

async function loadedCluster(seed: number, partitionCount = 8): Promise<TestCluster> {
  const cluster = await testCluster(seed, { partitionCount });
  for (const id of cluster.ids) cluster.node(id).antiEntropy.loadNow();
  return cluster;
}

/** `keys` keys written alike on n1 and n2. */
async function equalPair(seed: number, keys: number): Promise<{ cluster: TestCluster; entries: [Uint8Array, DottedVersionVectorSet<Sibling>][] }> {
  const cluster = await loadedCluster(seed);
  const entries = Array.from({ length: keys }, (_, i): [Uint8Array, DottedVersionVectorSet<Sibling>] => [testKey(`key-${i}`), written(`v${i}`, "n1")]);
  await store(cluster, "n1", entries);
  await store(cluster, "n2", entries);
  return { cluster, entries };
}

/** Writes `differences` of the keys again on n2 only (spread over the key list, from `offset`). */
async function diverge(cluster: TestCluster, entries: [Uint8Array, DottedVersionVectorSet<Sibling>][], differences: number, offset: number): Promise<void> {
  const step = Math.floor(entries.length / differences);
  const newer = Array.from({ length: differences }, (_, i): [Uint8Array, DottedVersionVectorSet<Sibling>] => {
    const [key] = entries[offset + i * step]!;
    return [key, written(`newer-${i}`, "n2", cluster.node("n2").replicas.fetch(key))];
  });
  await store(cluster, "n2", newer);
}

test("replicas that agree cost one root comparison per tree", async () => {
  const { cluster } = await equalPair(1, 500);
  const traffic = await exchangeAll(cluster, "n1", "n2");
  assert.equal(traffic.messages, 2 * cluster.trees().length);
  assert.equal(traffic.keysDiffering, 0);
});

test("exchange traffic grows with the number of differing keys, not with the number of keys", async () => {
  const measured = new Map<string, { messages: number; bytes: number; keysDiffering: number }>();
  const measure = async (cluster: TestCluster, label: string, differences: number) => {
    const traffic = await exchangeAll(cluster, "n1", "n2");
    assert.equal(traffic.keysDiffering, differences, label);
    assert.ok(rootsEqual(cluster, "n1", "n2"), `${label}: the exchange leaves the trees equal`);
    measured.set(label, traffic);
  };
  const large = await equalPair(2, 10_000);
  await measure(large.cluster, "10000/0", 0);
  await diverge(large.cluster, large.entries, 10, 0);
  await measure(large.cluster, "10000/10", 10);
  await diverge(large.cluster, large.entries, 100, 1);
  await measure(large.cluster, "10000/100", 100);
  const small = await equalPair(3, 2_000);
  await diverge(small.cluster, small.entries, 10, 0);
  await measure(small.cluster, "2000/10", 10);
  const [none, ten, hundred, tenOfFewer] = ["10000/0", "10000/10", "10000/100", "2000/10"].map((k) => measured.get(k)!);
  const figures = JSON.stringify([...measured]);
  // Ten differences cost about the same among 2,000 keys as among 10,000 (the segments they
  // fall in hold a few keys either way); a hundred cost several times ten; none cost roots only.
  assert.ok(ten!.bytes < 2 * tenOfFewer!.bytes && tenOfFewer!.bytes < 2 * ten!.bytes, figures);
  assert.ok(hundred!.bytes > 4 * ten!.bytes, figures);
  assert.ok(none!.bytes < ten!.bytes / 4, figures);
  // Far below listing every key: 10,000 keys at >= 20 bytes each would be 200 kB.
  assert.ok(hundred!.bytes < 100_000, figures);
});

test("an exchange syncs both ways through the merge: concurrent writes become siblings on both replicas", async () => {
  const cluster = await loadedCluster(3);
  const key = testKey("cart");
  const base = written("base", "n1");
  await store(cluster, "n1", [[key, written("from-n1", "n1", base)]]);
  await store(cluster, "n2", [[key, written("from-n2", "n2", base)]]);
  const traffic = await exchangeAll(cluster, "n1", "n2");
  assert.equal(traffic.keysRepaired, 1);
  const texts = (id: string) => dvvset.values(cluster.node(id).replicas.fetch(key)!).map((s) => new TextDecoder().decode(s.value)).sort();
  assert.deepEqual(texts("n1"), ["from-n1", "from-n2"]);
  assert.deepEqual(texts("n2"), ["from-n1", "from-n2"]);
  assert.ok(rootsEqual(cluster, "n1", "n2"));
});

test("a tombstone on two replicas beats the old value on the third: the value does not come back", async () => {
  const cluster = await loadedCluster(4);
  const key = testKey("deleted");
  const old = written("old", "n1");
  const tombstone = written("", "n2", old, true);
  await store(cluster, "n1", [[key, old]]);
  await store(cluster, "n2", [[key, tombstone]]);
  await store(cluster, "n3", [[key, tombstone]]);
  for (const [a, b] of [["n1", "n2"], ["n3", "n1"], ["n2", "n3"], ["n1", "n3"]] as const) await exchangeAll(cluster, a, b);
  for (const id of cluster.ids) {
    const set = cluster.node(id).replicas.fetch(key)!;
    assert.ok(dvvset.equal(set, tombstone), `${id} holds ${JSON.stringify(dvvset.values(set).map((s) => s.tombstone))}`);
    assert.ok(dvvset.values(set).every((s) => s.tombstone));
  }
});

test("a value that expired and was swept to a tombstone on one replica does not come back from another", async () => {
  const cluster = await loadedCluster(5);
  const key = testKey("session");
  const nowMs = cluster.sim.clock("n1").nowMs();
  const expiring = dvvset.update(dvvset.newValue({ ...written("s", "n1").entries[0]![2][0]!, expiresAtMs: nowMs + 10 }), dvvset.empty(), "n1");
  // Through the replica's merge, which keeps the expiry index the sweep reads.
  for (const id of ["n1", "n2"]) assert.ok((await cluster.sim.settle(cluster.node(id).replicas.merge(key, expiring, { lww: false }))).ok);
  await cluster.sim.runUntil(cluster.sim.now() + 1_000);
  const swept = await cluster.sim.settle(cluster.node("n2").replicas.sweepExpired(100));
  assert.equal(swept.expired, 1);
  await exchangeAll(cluster, "n1", "n2");
  for (const id of ["n1", "n2"]) {
    const set = cluster.node(id).replicas.fetch(key)!;
    assert.ok(dvvset.values(set).every((s) => s.tombstone), `${id} still holds a live value`);
  }
});

test("a replica with no data answers with empty trees and gets every key back", async () => {
  const cluster = await loadedCluster(6);
  const entries = Array.from({ length: 300 }, (_, i): [Uint8Array, DottedVersionVectorSet<Sibling>] => [testKey(`k${i}`), written(`v${i}`, "n1")]);
  await store(cluster, "n1", entries);
  const traffic = await exchangeAll(cluster, "n1", "n3");
  assert.equal(traffic.keysRepaired, 300);
  for (const [key, set] of entries) assert.ok(dvvset.equal(cluster.node("n3").replicas.fetch(key)!, set));
  assert.ok(rootsEqual(cluster, "n1", "n3"));
});

test("a replica still building its trees refuses exchanges instead of answering with a partial tree", async () => {
  const cluster = await testCluster(7);
  cluster.node("n1").antiEntropy.loadNow();
  const result = await cluster.sim.settle(cluster.node("n1").antiEntropy.exchange("n2", { partition: 0, n: 3 }));
  assert.deepEqual(result.ok ? "ok" : result.error, "anti-entropy.root: not-loaded");
});

// Tombstone GC and exchanges (README.md, "Tombstones"): the reaps reach the primaries one by
// one; a replica that just reaped a tombstone does not take it back from one that has not yet,
// while a replica that never had the key gets it as ever (so roots agree after a delete), and a
// tombstone with something new is stored.

async function tombstoneCluster(seed: number, remember = true): Promise<TestCluster> {
  const cluster = await testCluster(seed, remember ? {} : { reapedMemory: { entriesMax: 0, ms: 0 } });
  for (const id of cluster.ids) cluster.node(id).antiEntropy.loadNow();
  return cluster;
}

test("a replica that just reaped a tombstone does not take it back from an exchange (before: it did, and GC never finished)", async () => {
  for (const remember of [false, true]) {
    const cluster = await tombstoneCluster(11, remember);
    const key = testKey("reaped-on-n2");
    const tombstone = written("", "n1", written("old", "n1"), true);
    await store(cluster, "n1", [[key, tombstone]]);
    await store(cluster, "n2", [[key, tombstone]]);
    assert.ok(await cluster.sim.settle(cluster.node("n2").replicas.reap(key, tombstone)));
    await exchangeAll(cluster, "n1", "n2");
    await exchangeAll(cluster, "n2", "n1");
    const onN2 = cluster.node("n2").replicas.fetch(key);
    if (remember) assert.equal(onN2, undefined, "the reaped replica stays without the key");
    else assert.ok(onN2 !== undefined, "without the memory of the reap the tombstone is copied back (the defect)");
    assert.ok(cluster.node("n1").replicas.fetch(key) !== undefined, "n1 keeps it until its own reap");
  }
});

test("a tombstone is copied onto a replica that never had the key, so roots agree after a delete it missed", async () => {
  const cluster = await tombstoneCluster(12);
  const key = testKey("missed");
  const tombstone = written("", "n1", written("old", "n1"), true);
  await store(cluster, "n1", [[key, tombstone]]);
  await exchangeAll(cluster, "n2", "n1");
  assert.ok(dvvset.equal(cluster.node("n2").replicas.fetch(key)!, tombstone));
  assert.ok(rootsEqual(cluster, "n1", "n2"));
});

test("after a reap, a tombstone with something new (another delete's dot) and a live value are still taken", async () => {
  const cluster = await tombstoneCluster(13);
  const key = testKey("again");
  const old = written("old", "n1");
  const tombstone = written("", "n1", old, true);
  await store(cluster, "n2", [[key, tombstone]]);
  assert.ok(await cluster.sim.settle(cluster.node("n2").replicas.reap(key, tombstone)));
  const concurrent = dvvset.sync(tombstone, written("", "n3", old, true));
  await store(cluster, "n1", [[key, concurrent]]);
  await exchangeAll(cluster, "n1", "n2");
  assert.ok(dvvset.equal(cluster.node("n2").replicas.fetch(key)!, concurrent), "the unseen tombstone dot is news");
  const live = testKey("live-after-reap");
  const liveTombstone = written("", "n1", written("a", "n1"), true);
  await store(cluster, "n2", [[live, liveTombstone]]);
  assert.ok(await cluster.sim.settle(cluster.node("n2").replicas.reap(live, liveTombstone)));
  const rewritten = written("b", "n3", liveTombstone);
  await store(cluster, "n3", [[live, rewritten]]);
  await exchangeAll(cluster, "n3", "n2");
  assert.ok(dvvset.equal(cluster.node("n2").replicas.fetch(live)!, rewritten), "a value written after the delete is taken");
});

test("a difference written a moment ago is put off to a later exchange, at most deferralsMax times in a row", async () => {
  const cluster = await testCluster(21, { antiEntropy: { young: { youngMs: 5_000, deferralsMax: 2 } } });
  for (const id of cluster.ids) cluster.node(id).antiEntropy.loadNow();
  const key = testKey("young");
  await store(cluster, "n1", [[key, written("v", "n1")]]);
  const tree = cluster.node("n1").antiEntropy.trees.placeOf(key)!;
  const exchange = () => cluster.sim.settle(cluster.node("n1").antiEntropy.exchange("n2", tree));
  for (const round of [1, 2]) {
    const result = await exchange();
    assert.ok(result.ok && !result.agreed, JSON.stringify(result));
    assert.equal(result.segmentsDeferred, 1, `exchange ${round}`);
    assert.equal(result.keysRepaired, 0, `exchange ${round}`);
    assert.equal(result.complete, false, `exchange ${round}`);
    assert.equal(cluster.node("n2").replicas.fetch(key), undefined);
  }
  // Put off twice in a row: the third exchange compares it although it is still young.
  const third = await exchange();
  assert.ok(third.ok && third.complete && third.segmentsDeferred === 0 && third.keysRepaired === 1, JSON.stringify(third));
  assert.ok(rootsEqual(cluster, "n1", "n2"));
});

test("a young difference is repaired by the first exchange after it has aged", async () => {
  const cluster = await testCluster(22, { antiEntropy: { young: { youngMs: 5_000, deferralsMax: 3 } } });
  for (const id of cluster.ids) cluster.node(id).antiEntropy.loadNow();
  const key = testKey("ages");
  await store(cluster, "n1", [[key, written("v", "n1")]]);
  const tree = cluster.node("n1").antiEntropy.trees.placeOf(key)!;
  const first = await cluster.sim.settle(cluster.node("n1").antiEntropy.exchange("n2", tree));
  assert.ok(first.ok && first.segmentsDeferred === 1 && first.keysRepaired === 0, JSON.stringify(first));
  await cluster.sim.runUntil(cluster.sim.now() + 5_000);
  const later = await cluster.sim.settle(cluster.node("n1").antiEntropy.exchange("n2", tree));
  assert.ok(later.ok && later.complete && later.segmentsDeferred === 0 && later.keysRepaired === 1, JSON.stringify(later));
});

test("an old difference is repaired at once, and keys a repair wrote are not young for the next replica", async () => {
  const cluster = await testCluster(23, { antiEntropy: { young: { youngMs: 60_000, deferralsMax: 3 } } });
  for (const id of cluster.ids) cluster.node(id).antiEntropy.loadNow();
  // Written on n2 only (n1 missed them): n1's segments saw no write, so n1's exchange repairs them now.
  const entries = Array.from({ length: 200 }, (_, i): [Uint8Array, DottedVersionVectorSet<Sibling>] => [testKey(`missed-${i}`), written(`v${i}`, "n2")]);
  await store(cluster, "n2", entries);
  await cluster.sim.runUntil(cluster.sim.now() + 60_000);
  const fromN2 = await exchangeAll(cluster, "n1", "n2");
  assert.equal(fromN2.keysRepaired, 200);
  // n1 wrote those keys by repair; its exchange with n3 spreads them at once instead of putting them off.
  const toN3 = await exchangeAll(cluster, "n1", "n3");
  assert.equal(toN3.keysRepaired, 200);
  assert.ok(rootsEqual(cluster, "n1", "n3") && rootsEqual(cluster, "n2", "n3"));
  assert.equal(cluster.node("n1").antiEntropy.stats.segmentsDeferred, 0);
});

test("a difference the peer wrote a moment ago (not yet landed here) is put off too", async () => {
  const cluster = await testCluster(24, { antiEntropy: { young: { youngMs: 5_000, deferralsMax: 3 } } });
  for (const id of cluster.ids) cluster.node(id).antiEntropy.loadNow();
  const key = testKey("landing");
  // The write reached n2 but not n1 yet: n1's segment saw no write, n2's did.
  await store(cluster, "n2", [[key, written("v", "n2")]]);
  const tree = cluster.node("n1").antiEntropy.trees.placeOf(key)!;
  const result = await cluster.sim.settle(cluster.node("n1").antiEntropy.exchange("n2", tree));
  assert.ok(result.ok && result.segmentsDeferred === 1 && result.keysRepaired === 0 && !result.complete, JSON.stringify(result));
  assert.equal(cluster.node("n1").replicas.fetch(key), undefined);
  await cluster.sim.runUntil(cluster.sim.now() + 5_000);
  const later = await cluster.sim.settle(cluster.node("n1").antiEntropy.exchange("n2", tree));
  assert.ok(later.ok && later.complete && later.keysRepaired === 1, JSON.stringify(later));
});
