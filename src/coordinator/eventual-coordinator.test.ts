import { test } from "node:test";
import assert from "node:assert/strict";
import { claimInitial } from "../ring/claim.js";
import { partitionOf } from "../ring/partition-hash.js";
import { preferenceList } from "../ring/preference-list.js";
import type { RingState } from "../ring/ring-state.js";
import { ClusterNode } from "../sim/cluster-node.js";
import { itemKeyOf } from "../sim/eventual-workload.js";
import { Simulation } from "../sim/simulation.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import type { Quorum } from "./quorum-options.js";
import type { EventualCoordinator, EventualGetResult, EventualPutResult, SiblingProposal } from "./eventual-coordinator.js";

// The coordinator on a small simulated cluster (three ClusterNodes, n=3 r=2 w=2, no faults
// unless a test makes them): what a client sees through get, put and delete.

const quorum: Quorum = { n: 3, r: 2, w: 2, dw: 0, pr: 0, pw: 0 };
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function proposal(text: string): SiblingProposal {
  return { value: encoder.encode(text), contentType: "text/plain", metadata: [], tombstone: false, expiresAtMs: null };
}

async function cluster(seed: number, ids = ["n1", "n2", "n3"], storage?: { syncDelayMs: number; lateDurability: boolean }): Promise<{ sim: Simulation; ring: RingState }> {
  const sim = new Simulation({ seed, ...(storage !== undefined ? { storage } : {}) });
  const claimed = claimInitial(ids.map((id) => ({ id })), { partitionCount: 64 });
  assert.ok(claimed.ok);
  const ring = claimed.ring;
  const intervals = { probeIntervalMs: 200, probeTimeoutMs: 80, indirectProbeTimeoutMs: 160, suspicionTimeoutMs: 1_000, gossipIntervalMs: 200, gossipTimeoutMs: 150 };
  const hintDelivery = { intervalMs: 100, backoffBaseMs: 100, backoffMaxMs: 1_000 };
  for (const id of ids) sim.addNode(id, (runtime) => ClusterNode.open(runtime, { seeds: ids, initialRing: ring, requestTimeoutMs: 400, membershipIntervals: intervals, hintDelivery }));
  await sim.bootAll();
  await sim.runUntil(sim.now() + 1_000);
  return { sim, ring };
}

function coordinatorOf(sim: Simulation, id: string): EventualCoordinator {
  return sim.node<ClusterNode>(id).instance!.coordinator;
}

function put(sim: Simulation, id: string, key: string, text: string, context?: EventualGetResult): Promise<EventualPutResult> {
  const ctx = context?.ok === true ? context.context : undefined;
  return sim.settle(coordinatorOf(sim, id).put({ key: itemKeyOf(key), proposal: proposal(text), context: ctx, quorum, lww: false }));
}

function get(sim: Simulation, id: string, key: string): Promise<EventualGetResult> {
  return sim.settle(coordinatorOf(sim, id).get(itemKeyOf(key), quorum, false));
}

function texts(result: EventualGetResult): string[] {
  assert.ok(result.ok, JSON.stringify(result));
  return result.siblings.map((s) => decoder.decode(s.value)).sort();
}

test("a put acknowledged at w=2 is read back with its context from any node", async () => {
  const { sim } = await cluster(1);
  const written = await put(sim, "n1", "cart", "apple");
  assert.ok(written.ok, JSON.stringify(written));
  for (const id of ["n1", "n2", "n3"]) assert.deepEqual(texts(await get(sim, id, "cart")), ["apple"]);
  const read = await get(sim, "n2", "cart");
  assert.ok(read.ok && read.context.some(([node, counter]) => node === written.dot[0] && counter >= written.dot[1]));
});

test("blind writes become siblings; a write with the read's context replaces exactly them", async () => {
  const { sim } = await cluster(2);
  assert.ok((await put(sim, "n1", "k", "a")).ok);
  assert.ok((await put(sim, "n3", "k", "b")).ok);
  const read = await get(sim, "n2", "k");
  assert.deepEqual(texts(read), ["a", "b"]);
  assert.ok((await put(sim, "n2", "k", "merged", read)).ok);
  assert.deepEqual(texts(await get(sim, "n1", "k")), ["merged"]);
});

test("a delete with the read's context makes the key read as not found", async () => {
  const { sim } = await cluster(3);
  assert.ok((await put(sim, "n1", "gone", "x")).ok);
  const read = await get(sim, "n1", "gone");
  const deleted = await sim.settle(coordinatorOf(sim, "n2").delete({ key: itemKeyOf("gone"), context: read.ok ? read.context : undefined, quorum, lww: false }));
  assert.ok(deleted.ok);
  const after = await get(sim, "n3", "gone");
  assert.ok(after.ok && !after.found && after.siblings.length === 0);
});

test("with two of three replicas down a write fails its quorum, naming what it got", async () => {
  const { sim } = await cluster(4);
  sim.crash("n2");
  sim.crash("n3");
  await sim.runUntil(sim.now() + 3_000);
  const result = await put(sim, "n1", "k", "lonely");
  assert.equal(result.ok, false);
  assert.ok(!result.ok && result.error === "quorum" && result.got.w === 1 && result.needed.w === 2, JSON.stringify(result));
});

test("a write while a primary is down goes to a fallback as a hint and is handed back when it returns", async () => {
  const ids = ["n1", "n2", "n3", "n4"];
  const { sim, ring } = await cluster(5, ids);
  const key = "hinted";
  const primaries = preferenceList(ring, partitionOf(encoder.encode(key), ring.partitionCount), 3);
  const down = primaries[2]!;
  const fallback = ids.find((id) => !primaries.includes(id))!;
  sim.crash(down);
  await sim.runUntil(sim.now() + 3_000);
  assert.ok((await put(sim, primaries[0]!, key, "while-down")).ok);
  assert.equal(sim.node<ClusterNode>(fallback).instance!.hints.count(down), 1);
  await sim.restart(down);
  const handedBack = await sim.runUntil(() => sim.node<ClusterNode>(fallback).instance!.hints.count(down) === 0, { deadlineMs: sim.now() + 10_000 });
  assert.equal(handedBack.reason, "predicate");
  const local = sim.node<ClusterNode>(down).instance!.replicas.fetch(itemKeyOf(key));
  assert.ok(local !== undefined);
});

test("a read repairs a replica that missed a write, after answering", async () => {
  const { sim, ring } = await cluster(6);
  const key = "repair";
  const primaries = preferenceList(ring, partitionOf(encoder.encode(key), ring.partitionCount), 3);
  const stale = primaries[2]!;
  sim.network.isolate(stale);
  assert.ok((await put(sim, primaries[0]!, key, "fresh")).ok);
  sim.network.heal();
  assert.equal(sim.node<ClusterNode>(stale).instance!.replicas.fetch(itemKeyOf(key)), undefined);
  assert.deepEqual(texts(await get(sim, primaries[1]!, key)), ["fresh"]);
  const repaired = await sim.runUntil(() => sim.node<ClusterNode>(stale).instance!.replicas.fetch(itemKeyOf(key)) !== undefined, { deadlineMs: sim.now() + 2_000 });
  assert.equal(repaired.reason, "predicate");
});

test("a last-writer-wins table keeps only the later of two blind writes", async () => {
  const { sim } = await cluster(7);
  const lwwPut = (id: string, text: string) =>
    sim.settle(coordinatorOf(sim, id).put({ key: itemKeyOf("lww"), proposal: proposal(text), context: undefined, quorum, lww: true }));
  assert.ok((await lwwPut("n1", "first")).ok);
  await sim.runUntil(sim.now() + 10);
  assert.ok((await lwwPut("n3", "second")).ok);
  const read = await sim.settle(coordinatorOf(sim, "n2").get(itemKeyOf("lww"), quorum, true));
  assert.deepEqual(texts(read), ["second"]);
});

test("on a one-member ring a read is answered from the local record alone, siblings and context as on a cluster", async () => {
  const { sim } = await cluster(7, ["n1"]);
  const one: Quorum = { n: 1, r: 1, w: 1, dw: 0, pr: 0, pw: 0 };
  const coordinator = coordinatorOf(sim, "n1");
  const write = (text: string) => sim.settle(coordinator.put({ key: itemKeyOf("solo"), proposal: proposal(text), context: undefined, quorum: one, lww: false }));
  const first = await write("a");
  const second = await write("b");
  assert.ok(first.ok && second.ok);
  const read = await sim.settle(coordinator.get(itemKeyOf("solo"), one, false));
  assert.deepEqual(texts(read), ["a", "b"]);
  assert.ok(read.ok);
  assert.deepEqual(read.context, [second.dot]);
  assert.equal(coordinatorOf(sim, "n1").stats.repaired, 0);
  const missing = await sim.settle(coordinator.get(itemKeyOf("nobody"), one, false));
  // A quorum the one replica cannot meet still fails, naming what it got.
  const tooMany = await get(sim, "n1", "solo");
  assert.ok(!tooMany.ok && tooMany.error === "quorum" && tooMany.got.r === 1 && tooMany.needed.r === 2, JSON.stringify(tooMany));
  assert.ok(missing.ok && !missing.found);
  assert.deepEqual(missing.context, []);
});

test("on a one-member ring a local record that does not decode fails the read's quorum, naming why", async () => {
  const { sim } = await cluster(8, ["n1"]);
  await sim.settle(sim.node("n1").engine.write([{ type: "put", key: itemKeyOf("broken"), value: new Uint8Array([0x92, 0x02, 0xc0]) }], { durable: true }));
  const one: Quorum = { n: 1, r: 1, w: 1, dw: 0, pr: 0, pw: 0 };
  const read = await sim.settle(coordinatorOf(sim, "n1").get(itemKeyOf("broken"), one, false));
  assert.equal(read.ok, false);
  assert.ok(!read.ok && read.error === "quorum", JSON.stringify(read));
  assert.deepEqual(read.got, { r: 0, pr: 0 });
  assert.match(read.errors[0]!.error, /sibling record/);
});

test("a coordinator that crashed after replicating a write but before its own copy was durable never issues that dot again", async () => {
  // Slow fsyncs: a replica commits the coordinator's write well before the coordinator's own copy is durable.
  const { sim, ring } = await cluster(11, ["n1", "n2", "n3"], { syncDelayMs: 20, lateDurability: true });
  const key = "crash-window";
  const primaries = preferenceList(ring, partitionOf(encoder.encode(key), ring.partitionCount), 3);
  const [coordinator, other] = primaries as [string, string, string];
  const first = await put(sim, coordinator, key, "v0");
  assert.ok(first.ok, JSON.stringify(first));
  // The next write's replicas store it (committed at the other primary) while its own copy is still syncing: crash then.
  void coordinatorOf(sim, coordinator).put({ key: itemKeyOf(key), proposal: proposal("v1"), context: undefined, quorum, lww: false });
  const replicaOf = (id: string) => sim.node<ClusterNode>(id).instance!.replicas;
  const stored = await sim.runUntil(() => (replicaOf(other).fetch(itemKeyOf(key)) === undefined ? false : texts2(replicaOf(other).fetch(itemKeyOf(key))!).includes("v1")), { deadlineMs: sim.now() + 1_000 });
  assert.equal(stored.reason, "predicate");
  sim.crash(coordinator);
  await sim.restart(coordinator);
  assert.deepEqual(texts2(replicaOf(coordinator).fetch(itemKeyOf(key))!), ["v0"], "the crash lost the coordinator's own copy of v1");
  await sim.runUntil(sim.now() + 1_000);
  const lostDot = dvvset.join(replicaOf(other).fetch(itemKeyOf(key))!).find((entry) => entry[0] === first.dot[0]);
  const again = await put(sim, coordinator, key, "v2");
  assert.ok(again.ok, JSON.stringify(again));
  assert.notDeepEqual(again.dot, lostDot, `dot ${String(again.dot)} was issued twice`);
  await sim.runUntil(sim.now() + 3_000);
  for (const id of primaries) assert.deepEqual(texts(await get(sim, id, key)), ["v0", "v1", "v2"]);
});

function texts2(set: dvvset.DottedVersionVectorSet<{ value: Uint8Array }>): string[] {
  return dvvset.values(set).map((s) => decoder.decode(s.value)).sort();
}
