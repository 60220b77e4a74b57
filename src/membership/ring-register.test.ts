import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestRuntime } from "../node/test-runtime.js";
import { contentHash } from "../ring/ring-hash.js";
import type { Network, NodeId, RequestResult } from "../runtime/network.js";
import { MemoryStorageEngine } from "../storage/memory-storage-engine.js";
import { RingKeeper } from "./ring-keeper.js";
import { RingRegister, ringAcceptType } from "./ring-register.js";
import { bootCluster, nodeIds, SimCluster, type TestRing } from "./sim-cluster.test-support.js";

// Issue 6, "ring publication agreed": two nodes that both believe they lead (a partition, a slow
// failure detector) each publish a different ring of the same version.

async function twoLeaders(seed: number, agreedRings: boolean) {
  const cluster = new SimCluster({ seed, agreedRings });
  const ids = nodeIds(3);
  await bootCluster(cluster, ids);
  assert.notEqual(await cluster.runUntil(() => cluster.converged(ids), 15_000), undefined, `seed ${seed}: 3 nodes did not converge`);
  const base = cluster.membership("n1")!.ring()!;
  const a: TestRing = { version: base.version + 1, members: [...base.members, "x"].sort() };
  const b: TestRing = { version: base.version + 1, members: [...base.members, "y"].sort() };
  const published = cluster.sim.settle(Promise.all([cluster.membership("n1")!.publish(a), cluster.membership("n3")!.publish(b)]));
  const [ra, rb] = await published;
  await cluster.runUntil(() => false, 5_000);
  const adopted = cluster.rings.filter((r) => r.version === a.version);
  return { ra, rb, cluster, a, b, hashes: new Set(adopted.map((r) => r.hash)), ids };
}

test("without agreement (the old publication), two leaders' rings of one version are both adopted, by different members", async () => {
  const { hashes, a } = await twoLeaders(1, false);
  assert.equal(hashes.size, 2, `members adopted ${hashes.size} different rings of version ${a.version}`);
});

test("with agreed rings, two leaders publishing different rings of one version: one ring is decided, both leaders and every member adopt only it", async () => {
  for (let seed = 1; seed <= 12; seed++) {
    const { ra, rb, hashes, cluster, a, ids } = await twoLeaders(seed, true);
    assert.ok(ra.ok && rb.ok, `seed ${seed}: ${JSON.stringify([ra, rb])}`);
    assert.equal(contentHash(ra.ring), contentHash(rb.ring), `seed ${seed}: the leaders ended with different rings`);
    assert.notEqual(ra.won, rb.won, `seed ${seed}: exactly one leader's ring wins`);
    assert.equal(hashes.size, 1, `seed ${seed}: members adopted ${hashes.size} different rings of version ${a.version}`);
    for (const id of ids) assert.equal(contentHash(cluster.membership(id)!.ring()!), contentHash(ra.ring), `seed ${seed}: ${id} holds another ring`);
  }
});

test("a leader cut off from a majority of the ring's members changes nothing; the majority's leader does", async () => {
  const cluster = new SimCluster({ seed: 7, agreedRings: true });
  const ids = nodeIds(3);
  await bootCluster(cluster, ids);
  assert.notEqual(await cluster.runUntil(() => cluster.converged(ids), 15_000), undefined);
  const base = cluster.membership("n1")!.ring()!;
  cluster.sim.network.partition(["n1"], ["n2", "n3"]);
  const lonely = await cluster.sim.settle(cluster.membership("n1")!.publish({ version: base.version + 1, members: [...base.members, "x"].sort() }));
  assert.equal(lonely.ok, false, JSON.stringify(lonely));
  assert.match(lonely.ok ? "" : lonely.reason, /1 of 3 members .* promised \(a majority is 2\)/);
  assert.equal(cluster.membership("n1")!.ring()!.version, base.version, "the minority's ring did not change");
  const b: TestRing = { version: base.version + 1, members: [...base.members, "y"].sort() };
  const majority = await cluster.sim.settle(cluster.membership("n2")!.publish(b));
  assert.ok(majority.ok && majority.won, JSON.stringify(majority));
  cluster.sim.network.heal();
  assert.notEqual(await cluster.runUntil(() => ids.every((id) => contentHash(cluster.membership(id)!.ring()!) === contentHash(b)), 15_000), undefined, "the decided ring reaches n1 after the heal");
  assert.equal(new Set(cluster.rings.filter((r) => r.version === b.version).map((r) => r.hash)).size, 1);
});

test("the ring keeper refuses another ring of a decided version and counts it; first rings still resolve by origin", () => {
  const keeper = new RingKeeper<TestRing>(contentHash);
  assert.ok(keeper.adopt({ ring: { version: 1, members: ["b"] }, origin: "b" }));
  assert.ok(keeper.adopt({ ring: { version: 1, members: ["a"] }, origin: "a" }), "a first ring from a smaller origin wins as before");
  assert.ok(keeper.adopt({ ring: { version: 2, members: ["a", "b"] }, origin: "b" }));
  assert.equal(keeper.adopt({ ring: { version: 2, members: ["a", "c"] }, origin: "a" }), false, "another ring 2 is refused");
  assert.equal(keeper.conflicts, 1);
  assert.equal(keeper.adopt({ ring: { version: 2, members: ["a", "b"] }, origin: "a" }), false, "the same ring 2 again is no change");
  assert.equal(keeper.conflicts, 1);
  assert.equal(keeper.stamp?.hash, contentHash({ version: 2, members: ["a", "b"] }));
  assert.ok(keeper.adopt({ ring: { version: 3, members: ["a"] }, origin: "c" }));
});

/** Three registers on one in-process network; `drop(to, message)` loses a request. */
function registers(storages: Map<NodeId, MemoryStorageEngine>, drop: (to: NodeId, message: unknown) => boolean) {
  const held = new Map<NodeId, TestRing>([["n1", { version: 1, members: ["n1", "n2", "n3"] }], ["n2", { version: 1, members: ["n1", "n2", "n3"] }], ["n3", { version: 1, members: ["n1", "n2", "n3"] }]]);
  const nodes = new Map<NodeId, RingRegister<TestRing>>();
  const network = (self: NodeId): Network => ({
    request: async <T>(to: NodeId, message: unknown): Promise<RequestResult<T>> => {
      if (drop(to, message)) return { ok: false, error: "timeout" };
      const reply = await nodes.get(to)!.handle(message);
      return { ok: true, reply: reply as T };
    },
    send: () => assert.fail(`${self} sends nothing one-way`),
    serve: () => undefined,
  });
  for (const id of ["n1", "n2", "n3"]) {
    const runtime = createTestRuntime({ storage: storages.get(id)!, nodeId: id });
    nodes.set(id, new RingRegister<TestRing>({
      self: id,
      network: network(id),
      storage: storages.get(id)!,
      timers: { setTimeout: (fn: () => void) => (queueMicrotask(fn), { id: 0 }), clearTimeout: () => undefined } as never,
      random: runtime.random,
      current: () => held.get(id),
      hashOf: contentHash,
      parseRing: (value) => value as TestRing,
      membersOf: (ring) => ring.members,
      requestTimeoutMs: 100,
      attemptsMax: 1,
    }));
  }
  return nodes;
}

test("a value one acceptor accepted durably before a crash is completed by the next proposer instead of its own", async () => {
  const storages = new Map(["n1", "n2", "n3"].map((id) => [id, new MemoryStorageEngine()]));
  const base: TestRing = { version: 1, members: ["n1", "n2", "n3"] };
  const a: TestRing = { version: 2, members: ["n1", "n2", "n3", "x"] };
  const b: TestRing = { version: 2, members: ["n1", "n2", "n3", "y"] };
  // n1's round: promised by all, but its accept reaches only n1 itself.
  const first = registers(storages, (to, message) => (message as { type?: string }).type === ringAcceptType && to !== "n1");
  const lost = await first.get("n1")!.propose(base, a);
  assert.equal(lost.kind, "unavailable");
  // Every node restarts from its disk; n3 is now cut off. n2 proposes b.
  const second = registers(storages, (to) => to === "n3");
  const outcome = await second.get("n2")!.propose(base, b);
  assert.equal(outcome.kind, "decided");
  assert.deepEqual(outcome.kind === "decided" ? outcome.ring : undefined, a, "n2 completed the value n1 left accepted (it may have been decided), not its own");
});
