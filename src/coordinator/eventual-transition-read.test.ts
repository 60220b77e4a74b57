import { test } from "node:test";
import assert from "node:assert/strict";
import { HintStore } from "../handoff/hint-store.js";
import { ReplicaService } from "../replica/replica-service.js";
import { claimInitial } from "../ring/claim.js";
import { partitionOf } from "../ring/partition-hash.js";
import { preferenceList } from "../ring/preference-list.js";
import { planRing } from "../ring/ring-plan.js";
import { previousRing, type RingState } from "../ring/ring-state.js";
import type { NodeId } from "../runtime/network.js";
import { Simulation } from "../sim/simulation.js";
import { encodeItemKey } from "../storage/item-key.js";
import { isSibling } from "../versioning/sibling.js";
import { EventualCoordinator, type SiblingProposal } from "./eventual-coordinator.js";
import type { TableDefinition } from "../catalog/table-definition.js";
import { ClusterCoordinator } from "./cluster-coordinator.js";
import type { Quorum } from "./quorum-options.js";

// Reads while a partition moves (issue 6; joint-get-core.ts). Three nodes hold a key at n=3;
// a fourth joins, and the ring in transition swaps one old replica x of the key for n4, which
// is still filling. The key's acknowledged w=2 write is on a and x; b (on both lists) missed
// it. A read at r=2 coordinated by b while a is cut off from b: the new list alone answers
// with b's and n4's not-founds (the 404s the elastic join benchmark saw); the joint quorum
// also needs two replies of the old list, and x's copy is one of them.

const tableId = 1;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const nodeIds: NodeId[] = ["n1", "n2", "n3", "n4"];
const proposal: SiblingProposal = { value: encoder.encode("v"), contentType: "text/plain", metadata: [], tombstone: false, expiresAtMs: null };

interface Parts {
  replica: ReplicaService;
  coordinator: EventualCoordinator;
  items: ClusterCoordinator;
}

const wideTable: TableDefinition = { name: "wide", id: tableId, replication: { n: 3, r: 2, w: 2 }, consistency: "eventual", conflicts: "siblings", createdAtMs: 0 };
/** n=1: a key's old list is its old owner alone and its new list the gaining node alone. */
const narrowTable: TableDefinition = { name: "narrow", id: 2, replication: { n: 1, r: 1, w: 1 }, consistency: "eventual", conflicts: "siblings", createdAtMs: 0 };

/** n4 joins n1..n3 (or, with "leave", leaves n1..n4); every node holds the ring in transition. */
async function joining(seed: number, change: "join" | "leave" = "join") {
  const sim = new Simulation({ seed });
  const first = claimInitial(nodeIds.slice(0, change === "join" ? 3 : 4).map((id) => ({ id })), { partitionCount: 16 });
  assert.ok(first.ok);
  const planned = planRing(first.ring, [change === "join" ? { join: "n4" } : { leave: "n4" }]);
  assert.ok(planned.ok, planned.ok ? "" : planned.error);
  const transition = planned.ring;
  assert.ok(transition.previous !== undefined, "a committed join leaves the ring in transition");
  for (const id of nodeIds) {
    sim.addNode(id, (runtime): Parts => {
      const hints = HintStore.open({ storage: runtime.storage, isValue: isSibling, hintsPerTargetMax: 10 });
      const ringFence = { ring: () => transition, nOf: (table: number) => [wideTable, narrowTable].find((t) => t.id === table)?.replication.n };
      const replica = new ReplicaService({ nodeId: id, storage: runtime.storage, hints, siblingsMax: 10, ringFence });
      const membership = { ring: () => transition, isUp: () => true };
      const coordinator = new EventualCoordinator({ runtime, replicas: replica, membership, requestTimeoutMs: 200, soleReadRepairEvery: 1 });
      runtime.network.serve((from, message) => replica.handle(from, message));
      const items = new ClusterCoordinator({ runtime, eventual: coordinator, replicas: replica, membership, requestTimeoutMs: 200 });
      return { replica, coordinator, items };
    });
  }
  await sim.bootAll();
  return { sim, transition, parts: (id: NodeId) => sim.node<Parts>(id).instance! };
}

/** A key whose n=3 list swaps x for n4 in the transition; a and b are on both lists. */
function movingKey(transition: RingState): { partitionKey: Uint8Array; key: Uint8Array; a: NodeId; b: NodeId; x: NodeId } {
  const old = previousRing(transition)!;
  for (let i = 0; i < 1000; i++) {
    const partitionKey = encoder.encode(`k${i}`);
    const before = preferenceList(old, partitionOf(partitionKey, old.partitionCount), 3);
    const after = preferenceList(transition, partitionOf(partitionKey, transition.partitionCount), 3);
    if (!after.includes("n4")) continue;
    const x = before.find((id) => !after.includes(id))!;
    const [a, b] = before.filter((id) => id !== x);
    return { partitionKey, key: encodeItemKey(tableId, partitionKey), a: a!, b: b!, x };
  }
  assert.fail("no key moves to n4");
}

/** Stores one write on `owners` (coordinated by the first, merged into the others); the first may be a replica the new ring no longer places (a write from before the join). */
async function writeOn(sim: Simulation, owners: readonly ReplicaService[], key: Uint8Array, text: string): Promise<void> {
  const first = await sim.settle(owners[0]!.coordinateWrite(key, { ...proposal, value: encoder.encode(text), timestamp: 1 }, undefined, { lww: false }));
  assert.ok(first.ok);
  for (const owner of owners.slice(1)) assert.ok((await sim.settle(owner.merge(key, first.set, { lww: false }))).ok);
}

const r2: Quorum = { n: 3, r: 2, w: 2, dw: 0, pr: 0, pw: 0 };

test("a read while the key's partition moves to a filling node finds the write the old list acknowledged (a joint quorum of old and new lists)", async () => {
  const { sim, transition, parts } = await joining(71);
  const { key, a, b, x } = movingKey(transition);
  await writeOn(sim, [parts(x).replica, parts(a).replica], key, "acknowledged before the join");
  sim.network.partition([a], [b]);
  const read = await sim.settle(parts(b).coordinator.get(key, r2, false));
  assert.ok(read.ok, JSON.stringify(read));
  assert.equal(read.found, true, `b's and n4's not-founds answered for the key (a=${a} cut off, x=${x} holds it)`);
  assert.deepEqual(read.siblings.map((s) => decoder.decode(s.value)), ["acknowledged before the join"]);
  await sim.runUntil(sim.now() + 1_000);
  assert.ok(parts("n4").replica.fetch(key) !== undefined, "read repair sent the merge to the filling node");
  assert.ok(parts(b).replica.fetch(key) !== undefined, "read repair sent the merge to b");
});

test("a read while the partition moves finds a write acknowledged on the new list alone (the old list alone would miss it)", async () => {
  const { sim, transition, parts } = await joining(72);
  const { key, a, b, x } = movingKey(transition);
  await writeOn(sim, [parts(b).replica, parts("n4").replica], key, "acknowledged during the join");
  sim.network.partition([a], [x]);
  const read = await sim.settle(parts(x).coordinator.get(key, r2, false));
  assert.ok(read.ok, JSON.stringify(read));
  assert.equal(read.found, true);
  assert.deepEqual(read.siblings.map((s) => decoder.decode(s.value)), ["acknowledged during the join"]);
});

test("a read while the partition moves misses its quorum, naming the old list's shortfall, when the old list cannot give r", async () => {
  const { sim, transition, parts } = await joining(73);
  const { key, a, b, x } = movingKey(transition);
  sim.network.partition([b], [a, x]);
  const read = await sim.settle(parts(b).coordinator.get(key, r2, false));
  assert.equal(read.ok, false, "two replies of the new list (b, n4) are not enough without two of the old");
  assert.ok(!read.ok && read.error === "quorum" && read.got.r === 1 && read.needed.r === 2, JSON.stringify(read));
});

test("an r=1 read by a node on both lists is decided by its own copy; one by the gaining node is not", async () => {
  const { sim, transition, parts } = await joining(74);
  const { key, a, x } = movingKey(transition);
  await writeOn(sim, [parts(x).replica, parts(a).replica], key, "old");
  const r1: Quorum = { ...r2, r: 1 };
  sim.network.partition(["n4"], [x]);
  const byA = await sim.settle(parts(a).coordinator.get(key, r1, false));
  assert.ok(byA.ok && byA.found);
  // n4 is filling: its not-found is not the answer; one reply of the old list is needed too (a's).
  const byJoiner = await sim.settle(parts("n4").coordinator.get(key, r1, false));
  assert.ok(byJoiner.ok, JSON.stringify(byJoiner));
  assert.equal(byJoiner.found, true, "the gaining node answered its own not-found for a key the old list holds");
});

test("a query of a partition key that moves needs r answers of the old list too, so it lists the items the filling node lacks", async () => {
  const { sim, transition, parts } = await joining(75);
  const { partitionKey, a, b, x } = movingKey(transition);
  for (const sortKey of ["s1", "s2"]) await writeOn(sim, [parts(x).replica, parts(a).replica], encodeItemKey(tableId, partitionKey, encoder.encode(sortKey)), sortKey);
  sim.network.partition([a], [b]);
  const page = await sim.settle(parts(b).items.query(wideTable, { partitionKey, reverse: false, limit: 10 }));
  assert.ok(page.ok, JSON.stringify(page));
  assert.equal(page.value.items.length, 2, "b's and n4's empty pages answered the query");
});

test("a list while partitions move needs an answer from each partition's old list too (n=1: the leaving owner, whom no new list names)", async () => {
  const { sim, transition, parts } = await joining(76, "leave");
  const old = previousRing(transition)!;
  let moved = 0;
  for (let i = 0; i < 400 && moved < 5; i++) {
    const partitionKey = encoder.encode(`m${i}`);
    if (preferenceList(old, partitionOf(partitionKey, old.partitionCount), 1)[0] !== "n4") continue;
    moved++;
    await writeOn(sim, [parts("n4").replica], encodeItemKey(narrowTable.id, partitionKey), "v");
  }
  assert.equal(moved, 5);
  const page = await sim.settle(parts("n1").items.list(narrowTable, { prefix: new Uint8Array(0), limit: 100 }));
  assert.ok(page.ok, JSON.stringify(page));
  assert.equal(page.value.items.length, moved, "the list ended without the leaving node's page, whose partitions the new owners are still filling");
});
