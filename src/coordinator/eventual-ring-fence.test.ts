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
}

async function cluster(seed: number, fenced: boolean) {
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
      const ringFence = { ring: () => rings.get(id), nOf: (table: number) => (table === tableId ? 2 : undefined) };
      const replica = new ReplicaService({ nodeId: id, storage: runtime.storage, hints, siblingsMax: 10, ...(fenced ? { ringFence } : {}) });
      const coordinator = new EventualCoordinator({
        runtime,
        replicas: replica,
        membership: { ring: () => rings.get(id), isUp: () => true },
        requestTimeoutMs: 200,
        // Membership's adoption, reduced: take the peer's ring when it is newer.
        learnRing: (peer) => {
          const theirs = rings.get(peer)!;
          if (theirs.version > rings.get(id)!.version) rings.set(id, theirs);
          return Promise.resolve();
        },
      });
      runtime.network.serve((from, message) => replica.handle(from, message));
      return { replica, coordinator };
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
