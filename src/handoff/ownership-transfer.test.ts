import { test } from "node:test";
import assert from "node:assert/strict";
import { strongAcceptors } from "../coordinator/strong-placement.js";
import { ringStrongPlacement } from "../coordinator/strong-placement.js";
import { AcceptorService } from "../paxos/acceptor-service.js";
import { StrongCoordinator } from "../paxos/strong-coordinator.js";
import { ReplicaService } from "../replica/replica-service.js";
import { claimInitial, reclaim } from "../ring/claim.js";
import { partitionOf } from "../ring/partition-hash.js";
import { preferenceList } from "../ring/preference-list.js";
import { ringTransition, type RingState } from "../ring/ring-state.js";
import type { NodeId } from "../runtime/network.js";
import { Simulation } from "../sim/simulation.js";
import { encodeItemKey } from "../storage/item-key.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import { isSibling, type Sibling } from "../versioning/sibling.js";
import { HintStore } from "./hint-store.js";
import { incomingPartitions } from "./ownership-plan.js";
import { loadProgress } from "./ownership-progress.js";
import { OwnershipTransfer, type OwnershipTable } from "./ownership-transfer.js";

// Ownership transfer on four simulated nodes: a 3 -> 4 join moves partitions to n4, whose
// transfer pulls the eventual table's sibling sets and re-reads the strong table's keys, then
// reports to the leader (n1), which publishes the settled ring.

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const eventual: OwnershipTable = { id: 1, strong: false, n: 3, lww: false };
const strongTable: OwnershipTable = { id: 2, strong: true, n: 3, lww: false };
const nodeIds: NodeId[] = ["n1", "n2", "n3", "n4"];
const keyCount = 40;

interface Parts {
  replica: ReplicaService;
  acceptors: AcceptorService;
  strong: StrongCoordinator;
  transfer: OwnershipTransfer;
}

const sibling = (text: string): Sibling => ({ value: encoder.encode(text), contentType: "text/plain", metadata: [], timestamp: 1, tombstone: false, expiresAtMs: null });

async function cluster(seed: number, pageEntriesMax: number) {
  const sim = new Simulation({ seed });
  const first = claimInitial(nodeIds.slice(0, 3).map((id) => ({ id })), { partitionCount: 16 });
  assert.ok(first.ok);
  const rings = new Map<NodeId, RingState>(nodeIds.map((id) => [id, first.ring]));
  const published: RingState[] = [];
  for (const id of nodeIds) {
    sim.addNode(id, (runtime): Parts => {
      const hints = HintStore.open({ storage: runtime.storage, isValue: isSibling, hintsPerTargetMax: 10 });
      const replica = new ReplicaService({ nodeId: id, storage: runtime.storage, hints, siblingsMax: 100 });
      const acceptors = new AcceptorService({ runtime });
      const strong = new StrongCoordinator({ runtime, acceptors, placement: ringStrongPlacement(() => rings.get(id)), requestTimeoutMs: 200 });
      const transfer = new OwnershipTransfer({
        runtime,
        ring: () => rings.get(id),
        leader: () => "n1",
        tables: () => [eventual, strongTable],
        merge: (key, set, conflicts) => replica.merge(key, set, conflicts),
        strongRead: (key, n) => strong.read(key, n),
        strongFence: (node, ringVersion) => strong.fence(node, ringVersion),
        publishRing: (ring) => {
          published.push(ring);
          for (const node of nodeIds) rings.set(node, ring);
        },
        pageEntriesMax,
      });
      runtime.network.serve((from, message) => {
        const type = String((message as { type?: unknown }).type);
        if (type.startsWith("replica.")) return replica.handle(from, message);
        if (type.startsWith("paxos.")) return strong.handle(from, message);
        return transfer.handle(from, message);
      });
      return { replica, acceptors, strong, transfer };
    });
  }
  await sim.bootAll();
  const parts = (id: NodeId) => {
    const instance = sim.node<Parts>(id).instance;
    assert.ok(instance !== undefined, `${id} runs`);
    return instance;
  };
  return { sim, first: first.ring, rings, published, parts };
}

test("a 3 -> 4 join fills the new node's partitions from the old replicas and the leader then settles the ring", async () => {
  const { sim, first, rings, published, parts } = await cluster(11, 7);
  // Data written under the old ring: eventual keys on their old replicas, strong keys through CASPaxos.
  for (let i = 0; i < keyCount; i++) {
    const key = encodeItemKey(eventual.id, encoder.encode(`e${i}`));
    const partition = partitionOf(encoder.encode(`e${i}`), first.partitionCount);
    const [coordinator, ...others] = preferenceList(first, partition, 3);
    const written = await sim.settle(parts(coordinator!).replica.coordinateWrite(key, sibling(`v${i}`), undefined, { lww: false }));
    assert.ok(written.ok);
    for (const id of others) await sim.settle(parts(id).replica.merge(key, written.set, { lww: false }));
    const changed = await sim.settle(parts("n1").strong.change(encodeItemKey(strongTable.id, encoder.encode(`s${i}`)), 3, () => ({ type: "set", value: { value: encoder.encode(`s${i}`), contentType: "text/plain", metadata: [], expiresAtMs: null } })));
    assert.ok(changed.ok);
  }
  const joined = reclaim(first, nodeIds.map((id) => ({ id })));
  assert.ok(joined.ok);
  const moving = ringTransition(first, joined.ring);
  for (const id of nodeIds) rings.set(id, moving);
  const incoming = incomingPartitions(moving, "n4", 3);
  assert.ok(incoming.length > 0, "the join gave n4 nothing: the test shows nothing");

  for (let round = 0; round < 20 && published.length === 0; round++) {
    for (const id of nodeIds) await sim.settle(parts(id).transfer.tick());
    await sim.runUntil(sim.now() + 50);
  }
  assert.equal(published.length, 1, `the ring did not settle: ${parts("n4").transfer.lastProblem ?? "no problem reported"}`);
  assert.equal(published[0]!.version, moving.version + 1);
  assert.equal(published[0]!.previous, undefined);
  // Every old acceptor n4 scanned was fenced at the transition first (paxos/README.md,
  // "Ring-version fencing"): a majority of each gained partition's old list refuses ring 1.
  for (const { partition } of incoming) {
    const old = preferenceList(first, partition, strongTable.n);
    const fenced = old.filter((id) => parts(id).acceptors.ringFence >= moving.version);
    assert.ok(fenced.length > old.length / 2, `partition ${partition}: only ${fenced.join(",")} of ${old.join(",")} were fenced`);
  }

  const gained = new Set(incoming.map((p) => p.partition));
  let eventualMoved = 0;
  let strongMoved = 0;
  for (let i = 0; i < keyCount; i++) {
    const name = `e${i}`;
    const partition = partitionOf(encoder.encode(name), first.partitionCount);
    const held = parts("n4").replica.fetch(encodeItemKey(eventual.id, encoder.encode(name)));
    if (gained.has(partition)) {
      eventualMoved++;
      assert.deepEqual(held && dvvset.values(held).map((s) => decoder.decode(s.value)), [`v${i}`], `n4 lacks ${name}: ${JSON.stringify(held)}`);
    } else {
      assert.equal(held, undefined, `n4 took ${name}, which it does not gain`);
    }
    const strongName = `s${i}`;
    const strongPartition = partitionOf(encoder.encode(strongName), first.partitionCount);
    if (!gained.has(strongPartition)) continue;
    strongMoved++;
    // A majority of the new acceptor set alone has the value: the old ones are no longer asked.
    const placed = strongAcceptors(published[0]!, strongPartition, 3);
    const holding = placed.acceptors.filter((id) => {
      const value = parts(id).strong.readLocal(encodeItemKey(strongTable.id, encoder.encode(strongName))).value;
      return value !== undefined && decoder.decode(value.value) === strongName;
    });
    assert.ok(holding.length >= 2, `${strongName}: only ${holding.join(",")} of ${placed.acceptors.join(",")} hold it`);
  }
  assert.ok(eventualMoved > 0 && strongMoved > 0, `moved ${eventualMoved} eventual and ${strongMoved} strong keys: the test shows nothing`);
});

test("the transfer's cursor is persisted per page, so a restarted node resumes rather than starting over", async () => {
  const { sim, first, rings, parts } = await cluster(12, 3);
  for (let i = 0; i < keyCount; i++) {
    const key = encodeItemKey(eventual.id, encoder.encode(`e${i}`));
    await sim.settle(parts("n1").replica.coordinateWrite(key, sibling(`v${i}`), undefined, { lww: false }));
  }
  const joined = reclaim(first, nodeIds.map((id) => ({ id })));
  assert.ok(joined.ok);
  const moving = ringTransition(first, joined.ring);
  for (const id of nodeIds) rings.set(id, moving);
  // Stop n4's transfer after its first page has been stored.
  const storage = sim.node("n4").runtime!.storage;
  const transfer = parts("n4").transfer;
  const ticking = transfer.tick();
  await sim.runUntil(() => loadProgress(storage, moving.version).cursor !== null || loadProgress(storage, moving.version).completed.length > 0, { deadlineMs: sim.now() + 5_000 });
  transfer.stop();
  await sim.settle(ticking);
  const saved = loadProgress(storage, moving.version);
  assert.ok(saved.cursor !== null || saved.completed.length > 0, "nothing was persisted");
  assert.equal(saved.done, false);
  assert.equal(loadProgress(storage, moving.version + 7).completed.length, 0, "progress of another ring version starts over");
});
