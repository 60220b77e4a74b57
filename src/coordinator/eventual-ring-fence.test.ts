import { test } from "node:test";
import assert from "node:assert/strict";
import { HintStore } from "../handoff/hint-store.js";
import { ReplicaService } from "../replica/replica-service.js";
import { claimInitial } from "../ring/claim.js";
import { partitionOf } from "../ring/partition-hash.js";
import { preferenceList } from "../ring/preference-list.js";
import { planRing } from "../ring/ring-plan.js";
import { ringSettled, type RingState } from "../ring/ring-state.js";
import type { NodeId } from "../runtime/network.js";
import { Simulation } from "../sim/simulation.js";
import { encodeItemKey } from "../storage/item-key.js";
import { isSibling } from "../versioning/sibling.js";
import type { TableDefinition } from "../catalog/table-definition.js";
import { ClusterCoordinator } from "./cluster-coordinator.js";
import { EventualCoordinator, type SiblingProposal } from "./eventual-coordinator.js";
import type { Quorum } from "./quorum-options.js";

// Ring-version fencing on the eventual path (replica/ring-fence.ts), on four simulated nodes:
// n4 left (its partitions were copied and the ring settled without it) but still answers; a
// coordinator whose ring is still the one before the leave writes a key whose old preference
// list was [coordinator, n4]. n4 refuses the write for its newer ring; the coordinator learns
// that ring from n4 and writes the key to its new preference list.

const tableId = 1;
const nodeIds: NodeId[] = ["n1", "n2", "n3", "n4"];
const encoder = new TextEncoder();

interface Parts {
  replica: ReplicaService;
  coordinator: EventualCoordinator;
  items: ClusterCoordinator;
}

async function cluster(seed: number, fenced: boolean, n = 2, learns = true) {
  const sim = new Simulation({ seed });
  const first = claimInitial(nodeIds.map((id) => ({ id })), { partitionCount: 16 });
  assert.ok(first.ok);
  const planned = planRing(first.ring, [{ leave: "n4" }]);
  assert.ok(planned.ok, planned.ok ? "" : planned.error);
  const settled = ringSettled(planned.ring);
  const rings = new Map<NodeId, RingState>(nodeIds.map((id) => [id, settled]));
  for (const id of nodeIds) {
    sim.addNode(id, (runtime): Parts => {
      const hints = HintStore.open({ storage: runtime.storage, isValue: isSibling, hintsPerTargetMax: 10 });
      const ringFence = { ring: () => rings.get(id), nOf: (table: number) => (table === tableId ? n : undefined) };
      const replica = new ReplicaService({ nodeId: id, storage: runtime.storage, hints, siblingsMax: 10, ...(fenced ? { ringFence } : {}) });
      const membership = { ring: () => rings.get(id), isUp: () => true };
      const coordinator = new EventualCoordinator({
        runtime,
        replicas: replica,
        membership,
        requestTimeoutMs: 200,
        // Membership's adoption, reduced: take the peer's ring when it is newer.
        learnRing: (peer) => {
          if (!learns) return Promise.resolve(); // the refuser cannot be asked (down, partitioned)
          const theirs = rings.get(peer)!;
          if (theirs.version > rings.get(id)!.version) rings.set(id, theirs);
          return Promise.resolve();
        },
      });
      runtime.network.serve((from, message) => replica.handle(from, message));
      const items = new ClusterCoordinator({ runtime, eventual: coordinator, replicas: replica, membership, requestTimeoutMs: 200 });
      return { replica, coordinator, items };
    });
  }
  await sim.bootAll();
  const parts = (id: NodeId) => sim.node<Parts>(id).instance!;
  return { sim, before: first.ring, after: settled, rings, parts };
}

/** A key whose n=2 list was [c, n4] before the leave and is [c, x] after it (c, x not n4). */
function movedKey(before: RingState, after: RingState): { key: Uint8Array; coordinator: NodeId; newOwner: NodeId } {
  for (let i = 0; i < 1000; i++) {
    const partitionKey = encoder.encode(`k${i}`);
    const old = preferenceList(before, partitionOf(partitionKey, before.partitionCount), 2);
    const now = preferenceList(after, partitionOf(partitionKey, after.partitionCount), 2);
    if (old[0] !== "n4" && old[1] === "n4" && now[0] === old[0]) return { key: encodeItemKey(tableId, partitionKey), coordinator: old[0]!, newOwner: now[1]! };
  }
  assert.fail("no key moved from [c, n4] to [c, x]");
}

const proposal: SiblingProposal = { value: encoder.encode("v"), contentType: "text/plain", metadata: [], tombstone: false, expiresAtMs: null };

for (const w of [2, 1]) {
  test(`a stale coordinator's w=${w} write is refused by the node that left and lands on the key's new owners`, async () => {
    const { sim, before, after, rings, parts } = await cluster(40 + w, true);
    const { key, coordinator, newOwner } = movedKey(before, after);
    rings.set(coordinator, before);
    const quorum: Quorum = { n: 2, r: 1, w, dw: 0, pr: 0, pw: 0 };
    const written = await sim.settle(parts(coordinator).coordinator.put({ key, proposal, context: undefined, quorum, lww: false }));
    assert.ok(written.ok, JSON.stringify(written));
    await sim.runUntil(sim.now() + 1_000);
    assert.equal(rings.get(coordinator), after, "the coordinator learned the ring from the refusing node");
    assert.equal(parts("n4").replica.fetch(key), undefined, "the node that left took the write");
    assert.ok(parts(newOwner).replica.fetch(key) !== undefined, `the new owner ${newOwner} never got the write`);
    assert.equal(parts(coordinator).coordinator.stats.ringRetried, 1);
  });
}

test("without fencing the node that left takes the write and the new owner misses it (what the fence prevents)", async () => {
  const { sim, before, after, rings, parts } = await cluster(43, false);
  const { key, coordinator, newOwner } = movedKey(before, after);
  rings.set(coordinator, before);
  const written = await sim.settle(parts(coordinator).coordinator.put({ key, proposal, context: undefined, quorum: { n: 2, r: 1, w: 2, dw: 0, pr: 0, pw: 0 }, lww: false }));
  assert.ok(written.ok);
  await sim.runUntil(sim.now() + 1_000);
  assert.ok(parts("n4").replica.fetch(key) !== undefined);
  assert.equal(parts(newOwner).replica.fetch(key), undefined);
});

// Reads (issue 6): after n4 left and the ring settled, n4 released the partitions it no longer
// serves (partition-release.ts), so it holds nothing of a key that moved from it to a new owner
// x. The write was acknowledged on the new ring by x alone (w=1; the other new replica missed
// it), so only x has it: r + w > n means a quorum read must still see it. A coordinator whose
// ring is the one before the leave (and which is no replica of the key on either ring) reads
// the old preference list, which names n4 and not x.

/** A key whose n-wide list named n4 before the leave and names x (not before) after it; the coordinator is on neither list. */
function releasedKey(before: RingState, after: RingState, n: number, partitionKey = (i: number) => encoder.encode(`k${i}`)): { partitionKey: Uint8Array; key: Uint8Array; coordinator: NodeId; newOwner: NodeId } {
  for (let i = 0; i < 1000; i++) {
    const pk = partitionKey(i);
    const old = preferenceList(before, partitionOf(pk, before.partitionCount), n);
    const now = preferenceList(after, partitionOf(pk, after.partitionCount), n);
    const newOwner = now.find((id) => !old.includes(id));
    const coordinator = nodeIds.find((id) => id !== "n4" && !old.includes(id) && !now.includes(id));
    if (old.includes("n4") && newOwner !== undefined && coordinator !== undefined) return { partitionKey: pk, key: encodeItemKey(tableId, pk), coordinator, newOwner };
  }
  assert.fail(`no key moved from n4 to a new owner with a coordinator on neither list at n=${n}`);
}

/** Stores a write on `owner` alone (the write's only acknowledgement) and returns it. */
async function writeOnlyOn(sim: Simulation, owner: ReplicaService, key: Uint8Array, text: string) {
  const written = await sim.settle(owner.coordinateWrite(key, { ...proposal, value: encoder.encode(text), timestamp: 1 }, undefined, { lww: false }));
  assert.ok(written.ok);
}

for (const n of [1, 2]) {
  test(`a stale coordinator's r=${n} read of a key whose old owner left and released it is refused by that node and finds the write on the new ring (n=${n})`, async () => {
    const { sim, before, after, rings, parts } = await cluster(50 + n, true, n);
    const { key, coordinator, newOwner } = releasedKey(before, after, n);
    rings.set(coordinator, before);
    await writeOnlyOn(sim, parts(newOwner).replica, key, "acknowledged");
    const quorum: Quorum = { n, r: n, w: 1, dw: 0, pr: 0, pw: 0 };
    const read = await sim.settle(parts(coordinator).coordinator.get(key, quorum, false));
    assert.ok(read.ok, JSON.stringify(read));
    assert.equal(read.found, true, "the read missed the acknowledged write");
    assert.deepEqual(read.siblings.map((s) => new TextDecoder().decode(s.value)), ["acknowledged"]);
    assert.equal(rings.get(coordinator), after, "the coordinator learned the ring from the refusing node");
    assert.equal(parts(coordinator).coordinator.stats.readRingRetried, 1);
  });

  test(`without fencing the same r=${n} read takes n4's "not found" and misses the write (what the read fence prevents, n=${n})`, async () => {
    const { sim, before, after, rings, parts } = await cluster(50 + n, false, n);
    const { key, coordinator, newOwner } = releasedKey(before, after, n);
    rings.set(coordinator, before);
    await writeOnlyOn(sim, parts(newOwner).replica, key, "acknowledged");
    const read = await sim.settle(parts(coordinator).coordinator.get(key, { n, r: n, w: 1, dw: 0, pr: 0, pw: 0 }, false));
    assert.ok(read.ok);
    assert.equal(read.found, false);
  });
}

test("a read on the same ring as the replicas sends the fence but is never refused or retried", async () => {
  const { sim, before, after, parts } = await cluster(55, true);
  const { key, coordinator, newOwner } = releasedKey(before, after, 2);
  await writeOnlyOn(sim, parts(newOwner).replica, key, "v");
  const read = await sim.settle(parts(coordinator).coordinator.get(key, { n: 2, r: 2, w: 1, dw: 0, pr: 0, pw: 0 }, false));
  assert.ok(read.ok && read.found);
  assert.equal(parts(coordinator).coordinator.stats.readRingRetried, undefined);
});

const table: TableDefinition = { name: "t", id: tableId, replication: { n: 2, r: 2, w: 2 }, consistency: "eventual", conflicts: "siblings", createdAtMs: 0 };

for (const fenced of [true, false]) {
  test(fenced ? "a stale coordinator's query of a partition key n4 released is refused by n4 and asked again of the new replicas" : "without fencing the stale query takes n4's empty page and misses the items (what the query fence prevents)", async () => {
    const { sim, before, after, rings, parts } = await cluster(60, fenced);
    const { partitionKey, coordinator, newOwner } = releasedKey(before, after, 2);
    rings.set(coordinator, before);
    for (const sortKey of ["a", "b"]) await writeOnlyOn(sim, parts(newOwner).replica, encodeItemKey(tableId, partitionKey, encoder.encode(sortKey)), sortKey);
    const page = await sim.settle(parts(coordinator).items.query(table, { partitionKey, reverse: false, limit: 10 }));
    assert.ok(page.ok, JSON.stringify(page));
    assert.equal(page.value.items.length, fenced ? 2 : 0);
    if (fenced) assert.equal(rings.get(coordinator), after, "the coordinator learned the ring from the refusing node");
  });
}

test("a stale coordinator's list is refused by members on the newer ring and worked out again on it, so it lists what moved", async () => {
  const { sim, before, after, rings, parts } = await cluster(61, true);
  const { coordinator } = releasedKey(before, after, 2);
  rings.set(coordinator, before);
  // Every key that moved off n4 is held by its new owners alone (n4 released it).
  const moved: string[] = [];
  for (let i = 0; i < 200 && moved.length < 12; i++) {
    const pk = encoder.encode(`m${i}`);
    const old = preferenceList(before, partitionOf(pk, before.partitionCount), 2);
    const now = preferenceList(after, partitionOf(pk, after.partitionCount), 2);
    if (!old.includes("n4")) continue;
    moved.push(`m${i}`);
    for (const owner of now) await writeOnlyOn(sim, parts(owner).replica, encodeItemKey(tableId, pk), "v");
  }
  const page = await sim.settle(parts(coordinator).items.list(table, { prefix: new Uint8Array(0), limit: 100 }));
  assert.ok(page.ok, JSON.stringify(page));
  assert.deepEqual(page.value.items.map((item) => new TextDecoder().decode(item.key.partitionKey)).sort(), [...moved].sort());
  assert.equal(rings.get(coordinator), after, "the coordinator learned the ring from a refusing member");
});

test("a refused read whose coordinator cannot learn the newer ring fails its quorum instead of answering a miss", async () => {
  const { sim, before, after, rings, parts } = await cluster(62, true, 2, false);
  const { key, coordinator, newOwner } = releasedKey(before, after, 2);
  rings.set(coordinator, before);
  await writeOnlyOn(sim, parts(newOwner).replica, key, "acknowledged");
  const read = await sim.settle(parts(coordinator).coordinator.get(key, { n: 2, r: 2, w: 1, dw: 0, pr: 0, pw: 0 }, false));
  assert.equal(read.ok, false, JSON.stringify(read));
  assert.equal(!read.ok && read.error, "quorum");
  assert.equal(rings.get(coordinator), before);
  assert.equal(parts(coordinator).coordinator.stats.readRingRetried, undefined);
});
