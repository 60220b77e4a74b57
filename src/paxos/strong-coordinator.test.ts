import { test } from "node:test";
import assert from "node:assert/strict";
import type { NodeId } from "../runtime/network.js";
import type { Runtime } from "../runtime/runtime.js";
import { Simulation } from "../sim/simulation.js";
import { encodeItemKey } from "../storage/item-key.js";
import type { Proposal } from "./acceptor-record.js";
import { AcceptorService, type AcceptReply, type PrepareReply } from "./acceptor-service.js";
import { ballotZero, type Ballot } from "./ballot.js";
import { StrongCoordinator, type StrongCoordinatorOptions, type StrongDecision, type StrongPlacement, type StrongVersioned } from "./strong-coordinator.js";

// The proposer and acceptors on small simulated clusters (sim/: virtual time, a seeded network,
// crashable disks): what a caller of change and read sees, with and without faults.

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const requestTimeoutMs = 200;

/** An acceptor whose answers to accept can be lost after it stored the value (a test's fault). */
class LossyAcceptor extends AcceptorService {
  dropAcceptReplies = false;
  prepares = 0;
  accepts = 0;
  override prepare(key: Uint8Array, ballot: Ballot, ringVersion?: number): Promise<PrepareReply> {
    this.prepares++;
    return super.prepare(key, ballot, ringVersion);
  }
  override async accept(key: Uint8Array, ballot: Ballot, proposal: Proposal, ringVersion?: number, next?: Ballot): Promise<AcceptReply> {
    this.accepts++;
    const reply = await super.accept(key, ballot, proposal, ringVersion, next);
    return this.dropAcceptReplies ? new Promise<AcceptReply>(() => undefined) : reply;
  }
}

interface StrongNode {
  strong: StrongCoordinator;
  acceptors: LossyAcceptor;
  runtime: Runtime;
}

interface ClusterOptions {
  ids?: NodeId[];
  placement?: StrongPlacement;
  coordinator?: Partial<StrongCoordinatorOptions>;
  clockOffsetMs?: Record<NodeId, number>;
  network?: { delayMinMs: number; delayMaxMs: number; jitterMs: number };
}

async function cluster(seed: number, options: ClusterOptions = {}): Promise<Simulation> {
  const ids = options.ids ?? ["n1", "n2", "n3"];
  const placement = options.placement ?? { acceptorsFor: (_key: Uint8Array, n: number) => ({ acceptors: ids.slice(0, n) }) };
  const sim = new Simulation({ seed, ...(options.network === undefined ? {} : { network: { faults: options.network } }) });
  for (const id of ids) {
    const offsetMs = options.clockOffsetMs?.[id];
    sim.addNode(
      id,
      (runtime): StrongNode => {
        const acceptors = new LossyAcceptor({ runtime });
        const strong = new StrongCoordinator({ runtime, acceptors, placement, requestTimeoutMs, heldPromisesMax: 10_000, ...options.coordinator });
        runtime.network.serve((from, message) => strong.handle(from, message));
        return { strong, acceptors, runtime };
      },
      offsetMs === undefined ? {} : { clock: { offsetMs } },
    );
  }
  await sim.bootAll();
  return sim;
}

function nodeOf(sim: Simulation, id: NodeId): StrongNode {
  const node = sim.node<StrongNode>(id).instance;
  assert.ok(node !== undefined, `node ${id} is not running`);
  return node;
}

const keyOf = (name: string): Uint8Array => encodeItemKey(1, encoder.encode(name));

function text(value: string, expiresAtMs: number | null = null): StrongDecision {
  return { type: "set", value: { value: encoder.encode(value), contentType: "text/plain", metadata: [], expiresAtMs } };
}

const counterOf = (current: StrongVersioned | undefined): number => (current === undefined ? 0 : Number(decoder.decode(current.value)));
const increment = (current: StrongVersioned | undefined): StrongDecision => text(String(counterOf(current) + 1));

async function readText(sim: Simulation, id: NodeId, name: string, n = 3): Promise<string | undefined> {
  const read = await sim.settle(nodeOf(sim, id).strong.read(keyOf(name), n));
  assert.ok(read.ok, JSON.stringify(read));
  return read.value === undefined ? undefined : decoder.decode(read.value.value);
}

test("a change through one node is read back through every node", async () => {
  const sim = await cluster(1);
  const changed = await sim.settle(nodeOf(sim, "n1").strong.change(keyOf("k"), 3, () => text("hello")));
  assert.ok(changed.ok, JSON.stringify(changed));
  assert.equal(changed.value.before, undefined);
  assert.equal(decoder.decode(changed.value.after!.value), "hello");
  for (const id of ["n1", "n2", "n3"]) assert.equal(await readText(sim, id, "k"), "hello");
  const read = await sim.settle(nodeOf(sim, "n3").strong.read(keyOf("k"), 3));
  assert.ok(read.ok && read.value?.version === changed.value.after!.version, "a read keeps the value's version");
});

test("concurrent increments through several proposers never lose an update", async () => {
  const sim = await cluster(2);
  const perNode = 8;
  const work = ["n1", "n2", "n3"].flatMap((id) => Array.from({ length: perNode }, () => nodeOf(sim, id).strong.change(keyOf("counter"), 3, increment)));
  const results = await sim.settle(Promise.all(work));
  const failed = results.filter((r) => !r.ok);
  assert.deepEqual(failed, []);
  void failed;
  const seen = results.map((r) => (r.ok ? counterOf(r.value.after) : -1)).sort((a, b) => a - b);
  assert.deepEqual(seen, Array.from({ length: 3 * perNode }, (_, i) => i + 1), "every increment saw a distinct count");
  assert.equal(await readText(sim, "n2", "counter"), String(3 * perNode));
});

test("with a minority of acceptors down changes and reads still succeed", async () => {
  const sim = await cluster(3);
  sim.crash("n3");
  assert.ok((await sim.settle(nodeOf(sim, "n1").strong.change(keyOf("k"), 3, () => text("v1")))).ok);
  assert.equal(await readText(sim, "n2", "k"), "v1");
});

test("with a majority of acceptors down a change fails as unavailable: nothing was accepted", async () => {
  const sim = await cluster(4);
  sim.crash("n2");
  sim.crash("n3");
  const changed = await sim.settle(nodeOf(sim, "n1").strong.change(keyOf("k"), 3, () => text("lonely")));
  assert.equal(changed.ok, false);
  assert.ok(!changed.ok && changed.error === "unavailable", JSON.stringify(changed));
  assert.equal(nodeOf(sim, "n1").acceptors.record(keyOf("k"))?.accepted, undefined, "not even the local acceptor accepted");
});

test("on five acceptors two down are tolerated and three down are not", async () => {
  const sim = await cluster(5, { ids: ["n1", "n2", "n3", "n4", "n5"] });
  sim.crash("n4");
  sim.crash("n5");
  assert.ok((await sim.settle(nodeOf(sim, "n1").strong.change(keyOf("k"), 5, () => text("five")))).ok);
  assert.equal(await readText(sim, "n3", "k", 5), "five");
  sim.crash("n3");
  const changed = await sim.settle(nodeOf(sim, "n2").strong.change(keyOf("k"), 5, () => text("six")));
  assert.ok(!changed.ok && changed.error === "unavailable", JSON.stringify(changed));
});

test("accepts that went out without a confirmed majority make the change indeterminate, and it may have happened", async () => {
  const sim = await cluster(6);
  nodeOf(sim, "n2").acceptors.dropAcceptReplies = true;
  nodeOf(sim, "n3").acceptors.dropAcceptReplies = true;
  const changed = await sim.settle(nodeOf(sim, "n1").strong.change(keyOf("k"), 3, () => text("maybe")));
  assert.ok(!changed.ok && changed.error === "indeterminate", JSON.stringify(changed));
  nodeOf(sim, "n2").acceptors.dropAcceptReplies = false;
  nodeOf(sim, "n3").acceptors.dropAcceptReplies = false;
  assert.equal(await readText(sim, "n3", "k"), "maybe", "here the accepts were stored, so the change happened");
});

test("a proposer retrying after a lost accept finishes its own change once instead of applying it twice", async () => {
  const sim = await cluster(7);
  assert.ok((await sim.settle(nodeOf(sim, "n1").strong.change(keyOf("c"), 3, increment))).ok);
  // The answers to n3's first accepts are lost (the values were stored): its second round
  // finds its own value in the lineage and completes it.
  const lossy = [nodeOf(sim, "n1").acceptors, nodeOf(sim, "n2").acceptors];
  for (const acceptor of lossy) acceptor.dropAcceptReplies = true;
  const change = nodeOf(sim, "n3").strong.change(keyOf("c"), 3, increment);
  await sim.runUntil(sim.now() + requestTimeoutMs / 2);
  for (const acceptor of lossy) acceptor.dropAcceptReplies = false;
  const changed = await sim.settle(change);
  assert.ok(changed.ok, JSON.stringify(changed));
  assert.equal(counterOf(changed.value.after), 2);
  assert.equal(await readText(sim, "n1", "c"), "2");
});

test("a delete is read as absent everywhere and its tombstone is collected from every acceptor", async () => {
  const sim = await cluster(8);
  assert.ok((await sim.settle(nodeOf(sim, "n1").strong.change(keyOf("gone"), 3, () => text("x")))).ok);
  const deleted = await sim.settle(nodeOf(sim, "n2").strong.change(keyOf("gone"), 3, () => ({ type: "delete" })));
  assert.ok(deleted.ok && deleted.value.after === undefined && decoder.decode(deleted.value.before!.value) === "x");
  const collected = await sim.runUntil(() => ["n1", "n2", "n3"].every((id) => nodeOf(sim, id).acceptors.record(keyOf("gone")) === undefined), { deadlineMs: sim.now() + 2_000 });
  assert.equal(collected.reason, "predicate");
  assert.equal(await readText(sim, "n3", "gone"), undefined);
  const created = await sim.settle(nodeOf(sim, "n1").strong.change(keyOf("gone"), 3, (current) => (current === undefined ? text("new") : text("resurrected"))));
  assert.ok(created.ok && created.value.before === undefined, JSON.stringify(created));
  assert.ok(created.ok && created.value.before === undefined, "a key deleted and created again shows nothing of its old value");
});

test("an old round's accept and prepare arriving after the GC are refused by the floor", async () => {
  const sim = await cluster(9);
  const key = keyOf("floor");
  assert.ok((await sim.settle(nodeOf(sim, "n1").strong.change(key, 3, () => text("old")))).ok);
  const oldBallot = nodeOf(sim, "n2").acceptors.record(key)!.accepted!.ballot;
  const oldValue = nodeOf(sim, "n2").acceptors.record(key)!.accepted!.value;
  assert.ok((await sim.settle(nodeOf(sim, "n1").strong.change(key, 3, () => ({ type: "delete" })))).ok);
  await sim.runUntil(() => ["n1", "n2", "n3"].every((id) => nodeOf(sim, id).acceptors.record(key) === undefined), { deadlineMs: sim.now() + 2_000 });
  for (const id of ["n1", "n2", "n3"]) {
    const late = await sim.settle(nodeOf(sim, id).acceptors.accept(key, oldBallot, { value: oldValue, origins: [oldBallot], originsFloor: ballotZero }));
    assert.equal(late.ok, false, `${id} accepted a stale accept after the GC`);
    assert.equal((await sim.settle(nodeOf(sim, id).acceptors.prepare(key, oldBallot))).ok, false);
  }
  assert.equal(await readText(sim, "n2", "floor"), undefined, "the old value does not resurface");
});

test("a proposer whose clock lags behind the floor is refused once, learns the ballot and bids above it", async () => {
  const sim = await cluster(10, { clockOffsetMs: { n3: -60_000 } });
  const key = keyOf("lagging");
  assert.ok((await sim.settle(nodeOf(sim, "n1").strong.change(key, 3, () => text("x")))).ok);
  assert.ok((await sim.settle(nodeOf(sim, "n1").strong.change(key, 3, () => ({ type: "delete" })))).ok);
  await sim.runUntil(() => ["n1", "n2", "n3"].every((id) => nodeOf(sim, id).acceptors.record(key) === undefined), { deadlineMs: sim.now() + 2_000 });
  const floor = nodeOf(sim, "n2").acceptors.floor(key);
  assert.ok(floor.counter > nodeOf(sim, "n3").runtime.hlc.now(), "the lagging node's clock is below the floor");
  const changed = await sim.settle(nodeOf(sim, "n3").strong.change(key, 3, (current) => text(current === undefined ? "fresh" : "stale")));
  assert.ok(changed.ok, JSON.stringify(changed));
  assert.equal(decoder.decode(changed.value.after!.value), "fresh");
  assert.ok(nodeOf(sim, "n3").acceptors.prepares >= 2, "the first prepare was refused by the floor");
});

test("changes queued on a hot key are combined into a few rounds and each sees the one before", async () => {
  const sim = await cluster(11);
  const node = nodeOf(sim, "n1");
  const count = 50;
  const results = await sim.settle(Promise.all(Array.from({ length: count }, () => node.strong.change(keyOf("hot"), 3, increment))));
  assert.ok(results.every((r) => r.ok));
  assert.deepEqual(
    results.map((r) => (r.ok ? counterOf(r.value.after) : 0)),
    Array.from({ length: count }, (_, i) => i + 1),
  );
  assert.ok(node.acceptors.prepares <= 3, `${node.acceptors.prepares} rounds for ${count} queued changes`);
  const versions = new Set(results.map((r) => (r.ok ? r.value.after!.version : "")));
  assert.equal(versions.size, count, "every combined change's value has its own version");
});

test("a hot key stays live with many clients on every node: each increment answered once and none lost", async () => {
  const sim = await cluster(17, { network: { delayMinMs: 1, delayMaxMs: 5, jitterMs: 3 } });
  const ids = ["n1", "n2", "n3"];
  const clients = Array.from({ length: 30 }, async (_, client) => {
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) {
      const result = await nodeOf(sim, ids[client % 3]!).strong.change(keyOf("hot"), 3, increment);
      assert.ok(result.ok, JSON.stringify(result));
      seen.push(counterOf(result.value.after));
    }
    return seen;
  });
  const seen = (await sim.settle(Promise.all(clients))).flat().sort((a, b) => a - b);
  assert.deepEqual(seen, Array.from({ length: 150 }, (_, i) => i + 1));
  assert.equal(await readText(sim, "n3", "hot"), "150");
});

test("past the per-key queue bound a change is refused as overloaded", async () => {
  const sim = await cluster(12, { coordinator: { changesQueuedPerKeyMax: 4 } });
  const strong = nodeOf(sim, "n1").strong;
  const results = await sim.settle(Promise.all(Array.from({ length: 8 }, () => strong.change(keyOf("hot"), 3, increment))));
  // The first starts a round at once; four wait; three are refused.
  assert.deepEqual(
    results.map((r) => (r.ok ? "ok" : r.error)),
    ["ok", "ok", "ok", "ok", "ok", "overloaded", "overloaded", "overloaded"],
  );
  assert.equal(strong.activeKeys, 0);
});

test("a decide function that throws fails its own change only", async () => {
  const sim = await cluster(13);
  const strong = nodeOf(sim, "n1").strong;
  const first = strong.change(keyOf("k"), 3, () => text("a"));
  const broken = strong.change(keyOf("k"), 3, () => {
    throw new Error("boom");
  });
  const third = strong.change(keyOf("k"), 3, (current) => text(`${decoder.decode(current!.value)}b`));
  await assert.rejects(sim.settle(broken), /boom/);
  assert.ok((await sim.settle(first)).ok);
  const last = await sim.settle(third);
  assert.ok(last.ok && decoder.decode(last.value.after!.value) === "ab");
});

test("an expired value reads as absent", async () => {
  const sim = await cluster(14);
  const nowMs = nodeOf(sim, "n1").runtime.clock.nowMs();
  assert.ok((await sim.settle(nodeOf(sim, "n1").strong.change(keyOf("ttl"), 3, () => text("brief", nowMs + 1_000)))).ok);
  assert.equal(await readText(sim, "n2", "ttl"), "brief");
  await sim.runUntil(sim.now() + 2_000);
  assert.equal(await readText(sim, "n2", "ttl"), undefined);
  assert.equal(nodeOf(sim, "n3").strong.readLocal(keyOf("ttl")).value, undefined);
});

test("while a partition moves a change needs a majority of the new and of the previous acceptors", async () => {
  const ids = ["n1", "n2", "n3", "n4", "n5"];
  const placement: StrongPlacement = { acceptorsFor: () => ({ acceptors: ["n1", "n2", "n3"], previous: ["n3", "n4", "n5"] }) };
  const sim = await cluster(15, { ids, placement });
  sim.crash("n1");
  assert.ok((await sim.settle(nodeOf(sim, "n2").strong.change(keyOf("m"), 3, () => text("moving")))).ok, "n2, n3 and n3, n4 are majorities of both");
  sim.crash("n4");
  sim.crash("n5");
  // n2 holds a piggybacked promise from its first change, so its next round skips the prepare:
  // its accept reaches n2 and n3 (stored there), no majority of the previous set confirms it,
  // and the honest answer is "indeterminate", never success.
  const held = await sim.settle(nodeOf(sim, "n2").strong.change(keyOf("m"), 3, () => text("once more")));
  assert.ok(!held.ok && held.error === "indeterminate", `n2's one-round change: ${JSON.stringify(held)}`);
  const changed = await sim.settle(nodeOf(sim, "n3").strong.change(keyOf("m"), 3, () => text("again")));
  assert.ok(!changed.ok && changed.error === "unavailable", "n2 and n3 are a majority of the new set but n3 alone is none of the previous");
});

test("readLocal answers from this node's acceptor only, with when it accepted", async () => {
  const sim = await cluster(16);
  assert.ok((await sim.settle(nodeOf(sim, "n1").strong.change(keyOf("k"), 3, () => text("here")))).ok);
  await sim.runUntil(sim.now() + 100);
  const local = nodeOf(sim, "n2").strong.readLocal(keyOf("k"));
  assert.equal(decoder.decode(local.value!.value), "here");
  assert.ok(local.acceptedAtMs !== undefined && local.acceptedAtMs <= nodeOf(sim, "n2").runtime.clock.nowMs());
});

test("one seed run twice gives the same trace (the strong path is deterministic under the simulator)", async () => {
  const traceOf = async (): Promise<string> => {
    const sim = await cluster(18, { network: { delayMinMs: 1, delayMaxMs: 9, jitterMs: 5 } });
    const work = ["n1", "n2", "n3"].flatMap((id) => Array.from({ length: 4 }, () => nodeOf(sim, id).strong.change(keyOf("d"), 3, increment)));
    await sim.settle(Promise.all(work));
    await sim.settle(nodeOf(sim, "n2").strong.change(keyOf("d"), 3, () => ({ type: "delete" })));
    await sim.runUntil(sim.now() + 500);
    return sim.traceHash();
  };
  assert.equal(await traceOf(), await traceOf());
});

// The piggybacked prepare (README, "One round trip for a proposer's next change").

const preparesOf = (sim: Simulation, ids: readonly NodeId[]): number => ids.reduce((sum, id) => sum + nodeOf(sim, id).acceptors.prepares, 0);

test("a proposer's next change on a key skips the prepare: its last accept promised the next ballot", async () => {
  const sim = await cluster(40);
  const n1 = nodeOf(sim, "n1").strong;
  assert.ok((await sim.settle(n1.change(keyOf("p"), 3, increment))).ok);
  const prepares = preparesOf(sim, ["n1", "n2", "n3"]);
  for (let i = 0; i < 5; i++) assert.ok((await sim.settle(n1.change(keyOf("p"), 3, increment))).ok);
  assert.equal(preparesOf(sim, ["n1", "n2", "n3"]), prepares, "no prepare after the first change");
  assert.deepEqual(n1.roundCounts, { oneTrip: 5, twoTrips: 1 });
  assert.equal(await readText(sim, "n3", "p"), "6");
});

test("a held promise another proposer outbid is refused, and the change retries with a prepare on the newest value", async () => {
  // n1 proposes but is no acceptor, so it cannot see n2's prepare: the acceptors' refusal is what stops it.
  const ids = ["n1", "n2", "n3", "n4"];
  const placement: StrongPlacement = { acceptorsFor: () => ({ acceptors: ["n2", "n3", "n4"] }) };
  const sim = await cluster(41, { ids, placement });
  const n1 = nodeOf(sim, "n1").strong;
  assert.ok((await sim.settle(n1.change(keyOf("q"), 3, increment))).ok);
  assert.ok((await sim.settle(nodeOf(sim, "n2").strong.change(keyOf("q"), 3, increment))).ok);
  const again = await sim.settle(n1.change(keyOf("q"), 3, increment));
  assert.ok(again.ok && decoder.decode(again.value.after!.value) === "3", `no increment lost: ${JSON.stringify(again)}`);
  assert.deepEqual(n1.roundCounts, { oneTrip: 1, twoTrips: 2 }, "the one-round attempt was refused and a full round followed");
  assert.equal(await readText(sim, "n4", "q"), "3");
});

test("when its own acceptor saw another proposer since, a proposer does not even try the held promise", async () => {
  const sim = await cluster(42);
  const n1 = nodeOf(sim, "n1").strong;
  assert.ok((await sim.settle(n1.change(keyOf("r"), 3, increment))).ok);
  assert.ok((await sim.settle(nodeOf(sim, "n2").strong.change(keyOf("r"), 3, increment))).ok);
  await sim.runUntil(sim.now() + 50);
  assert.ok((await sim.settle(n1.change(keyOf("r"), 3, increment))).ok);
  assert.deepEqual(n1.roundCounts, { oneTrip: 0, twoTrips: 2 });
  assert.equal(await readText(sim, "n3", "r"), "3");
});

test("a held promise serves only its ring version: after a ring change the next change prepares", async () => {
  let version = 1;
  const placement: StrongPlacement = { acceptorsFor: () => ({ acceptors: ["n1", "n2", "n3"], ringVersion: version }), ringVersion: () => version };
  const sim = await cluster(43, { placement });
  const n1 = nodeOf(sim, "n1").strong;
  assert.ok((await sim.settle(n1.change(keyOf("s"), 3, increment))).ok);
  version = 2;
  assert.ok((await sim.settle(n1.change(keyOf("s"), 3, increment))).ok);
  assert.deepEqual(n1.roundCounts, { oneTrip: 0, twoTrips: 2 });
  assert.ok((await sim.settle(n1.change(keyOf("s"), 3, increment))).ok);
  assert.deepEqual(n1.roundCounts, { oneTrip: 1, twoTrips: 2 });
});

test("after a delete, and with heldPromisesMax 0, every change prepares", async () => {
  const sim = await cluster(44, { coordinator: { heldPromisesMax: 0 } });
  const n1 = nodeOf(sim, "n1").strong;
  for (let i = 0; i < 3; i++) assert.ok((await sim.settle(n1.change(keyOf("t"), 3, increment))).ok);
  assert.deepEqual(n1.roundCounts, { oneTrip: 0, twoTrips: 3 });
  const other = await cluster(45);
  const m1 = nodeOf(other, "n1").strong;
  assert.ok((await other.settle(m1.change(keyOf("t"), 3, increment))).ok);
  assert.ok((await other.settle(m1.change(keyOf("t"), 3, () => ({ type: "delete" })))).ok);
  await other.runUntil(other.now() + 50); // the GC step collects the tombstone (a round racing it may be refused once)
  assert.ok((await other.settle(m1.change(keyOf("t"), 3, increment))).ok);
  assert.deepEqual(m1.roundCounts, { oneTrip: 1, twoTrips: 2 }, "the delete used the held promise; the change after it prepared");
  assert.equal(await readText(other, "n2", "t"), "1");
});

test("a one-round change whose accept is lost is finished once by the next round, never applied twice", async () => {
  const sim = await cluster(46);
  const n1 = nodeOf(sim, "n1");
  assert.ok((await sim.settle(n1.strong.change(keyOf("u"), 3, increment))).ok);
  for (const id of ["n1", "n2", "n3"]) nodeOf(sim, id).acceptors.dropAcceptReplies = true;
  const pending = n1.strong.change(keyOf("u"), 3, increment);
  await sim.runUntil(sim.now() + requestTimeoutMs + 50);
  for (const id of ["n1", "n2", "n3"]) nodeOf(sim, id).acceptors.dropAcceptReplies = false;
  const result = await sim.settle(pending);
  assert.ok(result.ok && decoder.decode(result.value.after!.value) === "2", JSON.stringify(result));
  assert.equal(await readText(sim, "n2", "u"), "2");
  assert.equal(n1.strong.roundCounts.oneTrip, 1);
});

test("held promises are bounded in keys and in value bytes: past either the oldest is forgotten", async () => {
  const sim = await cluster(47, { coordinator: { heldPromisesMax: 3, heldBytesMax: 40 } });
  const n1 = nodeOf(sim, "n1").strong;
  for (const name of ["a", "b", "c", "d"]) assert.ok((await sim.settle(n1.change(keyOf(name), 3, () => text("12345")))).ok);
  assert.equal(n1.heldPromises.keys, 3, "the key bound");
  assert.ok((await sim.settle(n1.change(keyOf("big"), 3, () => text("x".repeat(64))))).ok);
  assert.equal(n1.heldPromises.keys, 3, "a value above the byte bound is not held");
  assert.ok(n1.heldPromises.bytes <= 40);
  assert.ok((await sim.settle(n1.change(keyOf("a"), 3, increment))).ok, "a forgotten key prepares again");
  assert.deepEqual(n1.roundCounts, { oneTrip: 0, twoTrips: 6 });
  assert.ok((await sim.settle(n1.change(keyOf("d"), 3, () => text("again")))).ok);
  assert.equal(n1.roundCounts.oneTrip, 1, "a key still held takes one round trip");
});
