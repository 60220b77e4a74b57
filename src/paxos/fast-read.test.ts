import { test } from "node:test";
import assert from "node:assert/strict";
import type { NodeId } from "../runtime/network.js";
import { Simulation } from "../sim/simulation.js";
import { encodeItemKey } from "../storage/item-key.js";
import { AcceptorService, type PrepareReply } from "./acceptor-service.js";
import type { Ballot } from "./ballot.js";
import { PeekQuorum } from "./peek-quorum.js";
import { StrongCoordinator, type StrongCoordinatorOptions, type StrongDecision } from "./strong-coordinator.js";

// The one-round-trip read (README, "A one-round-trip read"): it answers without writing when a
// majority agrees on the accepted ballot, and takes the full round otherwise.

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const requestTimeoutMs = 200;
const ids: NodeId[] = ["n1", "n2", "n3"];

class CountingAcceptor extends AcceptorService {
  prepares = 0;
  override prepare(key: Uint8Array, ballot: Ballot, ringVersion?: number): Promise<PrepareReply> {
    this.prepares++;
    return super.prepare(key, ballot, ringVersion);
  }
}

interface Parts {
  strong: StrongCoordinator;
  acceptors: CountingAcceptor;
}

async function cluster(seed: number, coordinator: Partial<StrongCoordinatorOptions> = {}): Promise<{ sim: Simulation; parts: (id: NodeId) => Parts }> {
  const sim = new Simulation({ seed });
  const placement = { acceptorsFor: () => ({ acceptors: ids }) };
  for (const id of ids) {
    sim.addNode(id, (runtime): Parts => {
      const acceptors = new CountingAcceptor({ runtime });
      const strong = new StrongCoordinator({ runtime, acceptors, placement, requestTimeoutMs, ...coordinator });
      runtime.network.serve((from, message) => strong.handle(from, message));
      return { strong, acceptors };
    });
  }
  await sim.bootAll();
  return { sim, parts: (id) => sim.node<Parts>(id).instance! };
}

const keyOf = (name: string): Uint8Array => encodeItemKey(1, encoder.encode(name));
const text = (value: string, expiresAtMs: number | null = null): StrongDecision => ({ type: "set", value: { value: encoder.encode(value), contentType: "text/plain", metadata: [], expiresAtMs } });
const prepares = (parts: (id: NodeId) => Parts): number => ids.reduce((sum, id) => sum + parts(id).acceptors.prepares, 0);

test("a read of a key nobody wrote answers absent in one round trip and writes nothing", async () => {
  const { sim, parts } = await cluster(1);
  for (const id of ids) {
    const read = await sim.settle(parts(id).strong.readFast(keyOf("never"), 3));
    assert.deepEqual(read, { ok: true, value: undefined });
    assert.deepEqual(parts(id).strong.readCounts, { fast: 1, full: 0 });
  }
  assert.equal(prepares(parts), 0);
  for (const id of ids) assert.equal(parts(id).acceptors.record(keyOf("never")), undefined, `${id} stored a record for a read`);
});

test("a read after a completed change answers its value in one round trip, without a prepare", async () => {
  const { sim, parts } = await cluster(2);
  const changed = await sim.settle(parts("n1").strong.change(keyOf("k"), 3, () => text("v1")));
  assert.ok(changed.ok);
  const before = prepares(parts);
  const read = await sim.settle(parts("n3").strong.readFast(keyOf("k"), 3));
  assert.ok(read.ok && read.value !== undefined);
  assert.equal(decoder.decode(read.value.value), "v1");
  assert.equal(read.value.version, changed.value.after!.version);
  assert.equal(prepares(parts), before);
  assert.deepEqual(parts("n3").strong.readCounts, { fast: 1, full: 0 });
});

test("acceptors that disagree send the read through the full round, which finishes the newest value", async () => {
  const { sim, parts } = await cluster(3);
  assert.ok((await sim.settle(parts("n1").strong.change(keyOf("k"), 3, () => text("v1")))).ok);
  // A newer round reached n2 alone (its proposer stopped after one accept).
  const accepted = parts("n2").acceptors.record(keyOf("k"))!.accepted!;
  const ballot: Ballot = { counter: accepted.ballot.counter + 1_000_000, node: "n9" };
  assert.equal((await sim.settle(parts("n2").acceptors.prepare(keyOf("k"), ballot))).ok, true);
  const v2 = { ...accepted.value!, value: encoder.encode("v2"), version: "v2" };
  assert.deepEqual(await sim.settle(parts("n2").acceptors.accept(keyOf("k"), ballot, { value: v2, origins: [ballot], originsFloor: accepted.originsFloor })), { ok: true });
  // With n3 down the replies are v1 (n1) and v2 (n2): no majority agrees.
  sim.crash("n3");
  const read = await sim.settle(parts("n1").strong.readFast(keyOf("k"), 3));
  assert.ok(read.ok && read.value !== undefined, JSON.stringify(read));
  assert.equal(decoder.decode(read.value.value), "v2");
  assert.deepEqual(parts("n1").strong.readCounts, { fast: 0, full: 1 });
  // The full round made v2 chosen on n1 and n2: the next read agrees at once.
  const again = await sim.settle(parts("n2").strong.readFast(keyOf("k"), 3));
  assert.ok(again.ok && again.value !== undefined && decoder.decode(again.value.value) === "v2");
  assert.deepEqual(parts("n2").strong.readCounts, { fast: 1, full: 0 });
});

test("an expired value goes through the full round, which makes its absence a tombstone", async () => {
  const { sim, parts } = await cluster(4);
  const expiresAtMs = Math.floor(sim.clock("n1").nowMs()) + 500;
  assert.ok((await sim.settle(parts("n1").strong.change(keyOf("ttl"), 3, () => text("brief", expiresAtMs)))).ok);
  const live = await sim.settle(parts("n2").strong.readFast(keyOf("ttl"), 3));
  assert.ok(live.ok && live.value !== undefined);
  await sim.runUntil(sim.now() + 2_000);
  const read = await sim.settle(parts("n2").strong.readFast(keyOf("ttl"), 3));
  assert.deepEqual(read, { ok: true, value: undefined });
  assert.deepEqual(parts("n2").strong.readCounts, { fast: 1, full: 1 });
  const majority = ids.filter((id) => {
    const record = parts(id).acceptors.record(keyOf("ttl"));
    return record === undefined || record.accepted?.value === undefined;
  });
  assert.ok(majority.length >= 2, "the expired value still stands on a majority");
});

test("the broken variant (reads without accept) also turns the one-round-trip read off", async () => {
  const { sim, parts } = await cluster(5, { unsafeReadWithoutAccept: true });
  assert.ok((await sim.settle(parts("n1").strong.readFast(keyOf("k"), 3))).ok);
  assert.deepEqual(parts("n1").strong.readCounts, { fast: 0, full: 1 });
});

test("read (the transfer's and the relearn's) always runs the full round: it must promise and accept", async () => {
  const { sim, parts } = await cluster(6);
  assert.ok((await sim.settle(parts("n1").strong.change(keyOf("k"), 3, () => text("v1")))).ok);
  const before = prepares(parts);
  const read = await sim.settle(parts("n2").strong.read(keyOf("k"), 3));
  assert.ok(read.ok && read.value !== undefined && decoder.decode(read.value.value) === "v1");
  assert.ok(prepares(parts) >= before + 2, "the read promised at no majority");
  assert.deepEqual(parts("n2").strong.readCounts, { fast: 0, full: 1 });
});

const b = (counter: number): Ballot => ({ counter, node: "n1" });
const agreedBallot = (quorum: PeekQuorum): Ballot | undefined => quorum.agreed?.ballot;

test("the read quorum needs one ballot on a majority of every set", () => {
  const one = new PeekQuorum([["n1", "n2", "n3"]]);
  one.add("n1", { ballot: b(1), value: undefined });
  one.add("n1", { ballot: b(1), value: undefined });
  assert.equal(one.agreed, undefined, "a repeated reply counted twice");
  one.add("n2", { ballot: b(2), value: undefined });
  assert.equal(one.agreed, undefined);
  assert.equal(one.hopeless, false, "n3 can still side with either");
  one.add("n3", { ballot: b(2), value: undefined });
  assert.deepEqual(agreedBallot(one), b(2));

  const joint = new PeekQuorum([["n1", "n2", "n3"], ["n3", "n4", "n5"]]);
  joint.add("n1", { ballot: b(1), value: undefined });
  joint.add("n2", { ballot: b(1), value: undefined });
  assert.equal(joint.agreed, undefined, "the second set has not answered");
  joint.add("n4", { ballot: b(1), value: undefined });
  assert.equal(joint.agreed, undefined);
  joint.add("n3", { ballot: b(1), value: undefined });
  assert.deepEqual(agreedBallot(joint), b(1));

  const split = new PeekQuorum([["n1", "n2", "n3"]]);
  split.add("n1", { ballot: b(1), value: undefined });
  split.add("n2", undefined);
  assert.equal(split.hopeless, false);
  split.add("n3", { ballot: undefined, value: undefined });
  assert.equal(split.hopeless, true);
  assert.equal(split.agreed, undefined);

  const absent = new PeekQuorum([["n1", "n2", "n3"]]);
  absent.add("n2", { ballot: undefined, value: undefined });
  absent.add("n3", { ballot: undefined, value: undefined });
  assert.deepEqual(absent.agreed, { ballot: undefined, value: undefined });
});
