import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestRuntime } from "../node/test-runtime.js";
import { MemoryStorageEngine } from "../storage/memory-storage-engine.js";
import { encodeItemKey } from "../storage/item-key.js";
import { AcceptorService } from "./acceptor-service.js";
import { ballotZero, compareBallots, type Ballot } from "./ballot.js";
import type { StrongVersioned } from "./strong-coordinator.js";

// The acceptor's rules (CASPaxos, section 2.2) on one node's storage: promise only above every
// promise, accept at or above the promise, answer only what is durable, and collect a
// tombstone behind a floor that refuses every older round.

const key = encodeItemKey(7, new TextEncoder().encode("k"));

function setup(): { engine: MemoryStorageEngine; acceptor: AcceptorService } {
  const engine = new MemoryStorageEngine();
  return { engine, acceptor: new AcceptorService({ runtime: createTestRuntime({ storage: engine }) }) };
}

function value(text: string, version: string): StrongVersioned {
  return { value: new TextEncoder().encode(text), contentType: "text/plain", metadata: [["a", "b"]], expiresAtMs: null, timestamp: 5, version };
}

const b = (counter: number, node = "n1"): Ballot => ({ counter, node });

function countWrites(engine: MemoryStorageEngine): { count: number } {
  const counter = { count: 0 };
  const write = engine.write.bind(engine);
  engine.write = (...args: Parameters<MemoryStorageEngine["write"]>) => {
    counter.count++;
    return write(...args);
  };
  return counter;
}

test("a prepare above every promise is promised and returns what was accepted", async () => {
  const { acceptor } = setup();
  assert.deepEqual(await acceptor.prepare(key, b(1)), { ok: true, accepted: undefined, collectedFloor: ballotZero });
  assert.deepEqual(await acceptor.accept(key, b(1), { value: value("x", "1.n1"), origins: [b(1)], originsFloor: ballotZero }), { ok: true });
  const promised = await acceptor.prepare(key, b(2, "n2"));
  assert.ok(promised.ok);
  assert.deepEqual(promised.accepted?.ballot, b(1));
  assert.equal(new TextDecoder().decode(promised.accepted?.value?.value), "x");
  assert.deepEqual(promised.accepted?.origins, [b(1)]);
});

test("a prepare at or below the promise is refused with the ballot to beat", async () => {
  const { acceptor } = setup();
  assert.ok((await acceptor.prepare(key, b(5, "n2"))).ok);
  assert.deepEqual(await acceptor.prepare(key, b(5, "n2")), { ok: false, refusal: "ballot", promised: b(5, "n2") });
  assert.deepEqual(await acceptor.prepare(key, b(5, "n1")), { ok: false, refusal: "ballot", promised: b(5, "n2") });
  assert.deepEqual(await acceptor.prepare(key, b(4, "n9")), { ok: false, refusal: "ballot", promised: b(5, "n2") });
  assert.ok((await acceptor.prepare(key, b(5, "n3"))).ok, "the node id breaks a tie of counters");
});

test("an accept below the promise is refused and leaves the accepted value alone", async () => {
  const { acceptor } = setup();
  assert.ok((await acceptor.prepare(key, b(1))).ok);
  assert.ok((await acceptor.accept(key, b(1), { value: value("first", "1.n1"), origins: [b(1)], originsFloor: ballotZero })).ok);
  assert.ok((await acceptor.prepare(key, b(3))).ok);
  assert.deepEqual(await acceptor.accept(key, b(2), { value: value("stale", "2.n1"), origins: [b(2)], originsFloor: ballotZero }), { ok: false, refusal: "ballot", promised: b(3) });
  assert.equal(acceptor.record(key)?.accepted?.value?.version, "1.n1");
});

test("an accept above the promise needs no prepare of its own and raises the promise", async () => {
  const { acceptor } = setup();
  assert.ok((await acceptor.prepare(key, b(1))).ok);
  assert.ok((await acceptor.accept(key, b(4), { value: value("later", "4.n1"), origins: [b(4)], originsFloor: ballotZero })).ok);
  assert.deepEqual(acceptor.record(key)?.promised, b(4));
  assert.deepEqual(await acceptor.prepare(key, b(3)), { ok: false, refusal: "ballot", promised: b(4) });
});

test("a promise and an accept survive a power cut once answered", async () => {
  const { engine, acceptor } = setup();
  assert.ok((await acceptor.prepare(key, b(2))).ok);
  engine.crash();
  assert.deepEqual(acceptor.record(key)?.promised, b(2));
  assert.ok((await acceptor.accept(key, b(2), { value: value("kept", "2.n1"), origins: [b(2)], originsFloor: ballotZero })).ok);
  engine.crash();
  const restarted = new AcceptorService({ runtime: createTestRuntime({ storage: engine }) });
  assert.equal(restarted.record(key)?.accepted?.value?.version, "2.n1");
  const refused = await restarted.prepare(key, b(1));
  assert.ok(!refused.ok && refused.refusal === "ballot" && compareBallots(refused.promised, b(2)) >= 0, JSON.stringify(refused));
});

test("a promise kept only in memory is covered after a restart by the durable reservation", async () => {
  const { engine, acceptor } = setup();
  const writes = countWrites(engine);
  assert.ok((await acceptor.prepare(key, b(5))).ok);
  assert.equal(writes.count, 1, "the first promise raises the reservation");
  for (let counter = 6; counter < 50; counter++) assert.ok((await acceptor.prepare(key, b(counter))).ok);
  assert.equal(writes.count, 1, "promises within the reservation write nothing");
  engine.crash();
  const restarted = new AcceptorService({ runtime: createTestRuntime({ storage: engine }) });
  assert.equal(restarted.record(key), undefined, "the promise itself was not stored");
  // The forgotten promise (49) must still hold: its round's accept and any lower prepare are refused.
  const accept = await restarted.accept(key, b(40), { value: value("late", "40.n1"), origins: [b(40)], originsFloor: ballotZero });
  assert.equal(accept.ok, false);
  const prepare = await restarted.prepare(key, b(49, "n9"));
  assert.ok(!prepare.ok && prepare.refusal === "ballot", JSON.stringify(prepare));
  // A proposer that learned the refusal bids above it and wins.
  const above = { counter: prepare.promised.counter + 1, node: "n1" };
  assert.ok((await restarted.prepare(key, above)).ok);
  assert.deepEqual(await restarted.accept(key, above, { value: value("new", "x"), origins: [above], originsFloor: ballotZero }), { ok: true });
});

test("promises evicted from memory still bind: a key without an entry honours the highest evicted promise", async () => {
  const engine = new MemoryStorageEngine();
  const acceptor = new AcceptorService({ runtime: createTestRuntime({ storage: engine }), promisesInMemoryMax: 2 });
  const keys = ["a", "b", "c"].map((name) => encodeItemKey(7, new TextEncoder().encode(name)));
  for (const [i, k] of keys.entries()) assert.ok((await acceptor.prepare(k, b(10 + i))).ok);
  // "a" (promised 10) was evicted: an accept at 9 must be refused, and so must one at 10 from another node's view of the floor.
  assert.equal((await acceptor.accept(keys[0]!, b(9), { value: value("x", "9.n1"), origins: [b(9)], originsFloor: ballotZero })).ok, false);
  assert.ok((await acceptor.accept(keys[0]!, b(12), { value: value("x", "12.n1"), origins: [b(12)], originsFloor: ballotZero })).ok);
});

test("collect drops a tombstone every acceptor holds, and the floor refuses an old accept arriving after", async () => {
  const { acceptor } = setup();
  assert.ok((await acceptor.prepare(key, b(1))).ok);
  assert.ok((await acceptor.accept(key, b(1), { value: value("old", "1.n1"), origins: [b(1)], originsFloor: ballotZero })).ok);
  assert.ok((await acceptor.prepare(key, b(3))).ok);
  assert.ok((await acceptor.accept(key, b(3), { value: undefined, origins: [b(1), b(3)], originsFloor: ballotZero })).ok);
  assert.deepEqual(await acceptor.collect(key, b(3)), { ok: true, dropped: true });
  assert.equal(acceptor.record(key), undefined);
  assert.deepEqual(acceptor.floor(key), b(3));
  // The stale round that wrote "old" retries its accept, and an older prepare arrives late.
  assert.deepEqual(await acceptor.accept(key, b(1), { value: value("old", "1.n1"), origins: [b(1)], originsFloor: ballotZero }), { ok: false, refusal: "ballot", promised: b(3) });
  assert.deepEqual(await acceptor.accept(key, b(3), { value: value("old", "1.n1"), origins: [b(1)], originsFloor: ballotZero }), { ok: false, refusal: "ballot", promised: b(3) });
  assert.deepEqual(await acceptor.prepare(key, b(2)), { ok: false, refusal: "ballot", promised: b(3) });
  assert.equal(acceptor.record(key), undefined);
  // A proposer above the floor sees nothing accepted: the key is absent.
  assert.deepEqual(await acceptor.prepare(key, b(4)), { ok: true, accepted: undefined, collectedFloor: b(3) });
});

test("collect raises the floor to a promise made after the tombstone, so that round's accept is refused", async () => {
  const { acceptor } = setup();
  assert.ok((await acceptor.accept(key, b(3), { value: undefined, origins: [b(3)], originsFloor: ballotZero })).ok);
  assert.ok((await acceptor.prepare(key, b(7, "n2"))).ok);
  assert.deepEqual(await acceptor.collect(key, b(3)), { ok: true, dropped: true });
  assert.deepEqual(await acceptor.accept(key, b(7, "n2"), { value: value("v", "7.n2"), origins: [b(7, "n2")], originsFloor: ballotZero }), { ok: false, refusal: "ballot", promised: b(7, "n2") });
  // The collected floor is the tombstone's ballot, not the later promise: a proposer proves
  // with it that a collected history lies below its own ballot.
  assert.deepEqual(await acceptor.prepare(key, b(8)), { ok: true, accepted: undefined, collectedFloor: b(3) });
});

test("collect keeps a record that accepted something after the tombstone, or a value", async () => {
  const { acceptor } = setup();
  assert.ok((await acceptor.accept(key, b(3), { value: undefined, origins: [b(3)], originsFloor: ballotZero })).ok);
  assert.ok((await acceptor.accept(key, b(5), { value: value("again", "5.n1"), origins: [b(5)], originsFloor: ballotZero })).ok);
  assert.deepEqual(await acceptor.collect(key, b(3)), { ok: true, dropped: false });
  assert.deepEqual(await acceptor.collect(key, b(5)), { ok: true, dropped: false });
  assert.equal(acceptor.record(key)?.accepted?.value?.version, "5.n1");
});

test("the floor survives a power cut and a restart", async () => {
  const { engine, acceptor } = setup();
  assert.ok((await acceptor.accept(key, b(9), { value: undefined, origins: [b(9)], originsFloor: ballotZero })).ok);
  assert.ok((await acceptor.collect(key, b(9))).ok);
  engine.crash();
  const restarted = new AcceptorService({ runtime: createTestRuntime({ storage: engine }) });
  assert.equal(restarted.record(key), undefined);
  assert.deepEqual(await restarted.prepare(key, b(8)), { ok: false, refusal: "ballot", promised: b(9) });
});

test("concurrent steps on one key run one at a time (the per-key lock)", async () => {
  const { acceptor } = setup();
  const replies = await Promise.all([acceptor.prepare(key, b(1)), acceptor.prepare(key, b(2)), acceptor.prepare(key, b(1, "n0"))]);
  assert.deepEqual(
    replies.map((r) => r.ok),
    [true, true, false],
  );
  assert.deepEqual(acceptor.record(key)?.promised, b(2));
});

test("past the lock bound on waiters an acceptor answers overloaded instead of queueing", async () => {
  const engine = new MemoryStorageEngine();
  const acceptor = new AcceptorService({ runtime: createTestRuntime({ storage: engine }), locks: { keysMax: 10, waitersPerKeyMax: 1 } });
  const replies = await Promise.all([acceptor.prepare(key, b(1)), acceptor.prepare(key, b(2)), acceptor.prepare(key, b(3))]);
  assert.deepEqual(replies[2], { ok: false, refusal: "overloaded" });
});

const e = (epoch: number, counter: number, node = "n1"): Ballot => ({ epoch, counter, node });

test("a ballot of an older ring than the node's is refused with the node's ring version; a newer one is served", async () => {
  const { acceptor } = setup();
  assert.deepEqual(await acceptor.prepare(key, e(2, 9), 3), { ok: false, refusal: "ring", ringVersion: 3 });
  assert.deepEqual(await acceptor.accept(key, e(2, 9), { value: value("x", "9.n1"), origins: [e(2, 9)], originsFloor: ballotZero }, 3), { ok: false, refusal: "ring", ringVersion: 3 });
  assert.equal(acceptor.record(key), undefined, "a refused round stores nothing");
  // An acceptor on an older ring serves a newer proposer: it is one of that proposer's acceptors.
  assert.equal((await acceptor.prepare(key, e(4, 1), 3)).ok, true);
  assert.deepEqual(await acceptor.accept(key, e(4, 1), { value: value("y", "1.n1"), origins: [e(4, 1)], originsFloor: ballotZero }, 3), { ok: true });
  // A newer epoch outbids any counter of an older one.
  assert.deepEqual(await acceptor.prepare(key, e(3, 1_000_000), 0), { ok: false, refusal: "ballot", promised: e(4, 1) });
});

test("the fence refuses older epochs from its answer on, survives a restart, and never goes down", async () => {
  const { engine, acceptor } = setup();
  assert.equal((await acceptor.prepare(key, e(1, 5), 1)).ok, true);
  assert.deepEqual(await acceptor.fence(2), { ok: true, fence: 2 });
  assert.deepEqual(await acceptor.accept(key, e(1, 5), { value: value("x", "5.n1"), origins: [e(1, 5)], originsFloor: ballotZero }, 1), { ok: false, refusal: "ring", ringVersion: 2 });
  assert.deepEqual(await acceptor.fence(1), { ok: true, fence: 2 });
  const reopened = new AcceptorService({ runtime: createTestRuntime({ storage: engine }) });
  assert.equal(reopened.ringFence, 2);
  assert.deepEqual(await reopened.prepare(key, e(1, 6), 0), { ok: false, refusal: "ring", ringVersion: 2 });
  assert.equal((await reopened.prepare(key, e(2, 7), 0)).ok, true);
});

test("the fence answers only after every round that was under way finished, stored or refused", async () => {
  const { acceptor } = setup();
  const other = encodeItemKey(7, new TextEncoder().encode("other"));
  assert.equal((await acceptor.prepare(key, e(1, 5), 1)).ok, true);
  assert.equal((await acceptor.prepare(other, e(1, 5), 1)).ok, true);
  const accepts = [key, other].map((k) => acceptor.accept(k, e(1, 5), { value: value("x", "5.n1"), origins: [e(1, 5)], originsFloor: ballotZero }, 1));
  let settled = 0;
  for (const accepting of accepts) void accepting.then(() => settled++);
  await acceptor.fence(2);
  assert.equal(settled, 2, "the fence answered before a round it let in had finished");
  for (const [i, k] of [key, other].entries()) {
    const reply = await accepts[i]!;
    assert.equal(acceptor.record(k)?.accepted !== undefined, reply.ok, "what is stored is what was answered");
  }
});

// The piggybacked prepare (README, "One round trip for a proposer's next change").

const proposalOf = (ballot: Ballot, text: string) => ({ value: value(text, `${ballot.counter}.${ballot.node}`), origins: [ballot], originsFloor: ballotZero });

test("an accept asked for the next ballot promises it: that ballot's accept needs no prepare, and lower prepares are refused", async () => {
  const { acceptor } = setup();
  assert.ok((await acceptor.prepare(key, b(1))).ok);
  assert.deepEqual(await acceptor.accept(key, b(1), proposalOf(b(1), "one"), 0, b(3)), { ok: true, next: true });
  assert.deepEqual(acceptor.promiseInMemory(key), b(3));
  assert.deepEqual(await acceptor.prepare(key, b(2, "n2")), { ok: false, refusal: "ballot", promised: b(3) }, "a ballot between the two is refused");
  assert.deepEqual(await acceptor.accept(key, b(2, "n2"), proposalOf(b(2, "n2"), "between")), { ok: false, refusal: "ballot", promised: b(3) });
  assert.deepEqual(await acceptor.accept(key, b(3), proposalOf(b(3), "two"), 0, b(4)), { ok: true, next: true });
  assert.equal(new TextDecoder().decode(acceptor.record(key)?.accepted?.value?.value), "two");
});

test("another proposer's prepare above the piggybacked promise invalidates it: the one-round accept is refused", async () => {
  const { acceptor } = setup();
  assert.ok((await acceptor.prepare(key, b(1))).ok);
  assert.ok((await acceptor.accept(key, b(1), proposalOf(b(1), "one"), 0, b(3))).ok);
  const other = await acceptor.prepare(key, b(5, "n2"));
  assert.ok(other.ok && compareBallots(other.accepted!.ballot, b(1)) === 0, "the prepare sees what the piggybacked promise reported");
  assert.deepEqual(await acceptor.accept(key, b(3), proposalOf(b(3), "lost update")), { ok: false, refusal: "ballot", promised: b(5, "n2") });
  assert.equal(new TextDecoder().decode(acceptor.record(key)?.accepted?.value?.value), "one");
});

test("the test-only unsafe variant takes the piggybacked ballot's accept after a higher prepare (what the checker must catch)", async () => {
  const acceptor = new AcceptorService({ runtime: createTestRuntime({ storage: new MemoryStorageEngine() }), unsafeKeepPiggybackedPromises: true });
  assert.ok((await acceptor.prepare(key, b(1))).ok);
  assert.ok((await acceptor.accept(key, b(1), proposalOf(b(1), "one"), 0, b(3))).ok);
  assert.ok((await acceptor.prepare(key, b(5, "n2"))).ok);
  assert.ok((await acceptor.accept(key, b(3), proposalOf(b(3), "lost update"))).ok);
});

test("only the accepting proposer's own later ballot of the same epoch is promised with an accept", async () => {
  const { acceptor } = setup();
  const e = (epoch: number, counter: number, node = "n1"): Ballot => ({ epoch, counter, node });
  assert.ok((await acceptor.prepare(key, b(1))).ok);
  for (const [next, why] of [
    [b(9, "n2"), "another proposer's ballot"],
    [b(1), "the same ballot"],
    [e(2, 9), "a ballot of another epoch"],
  ] as const) {
    const reply = await acceptor.accept(key, b(1), proposalOf(b(1), "one"), 0, next);
    assert.deepEqual(reply, { ok: true }, why);
    assert.equal(acceptor.promiseInMemory(key), undefined, why);
  }
});

test("a piggybacked promise is covered by the durable reservation after a restart", async () => {
  const { engine, acceptor } = setup();
  assert.ok((await acceptor.prepare(key, b(1))).ok);
  assert.ok((await acceptor.accept(key, b(1), proposalOf(b(1), "one"), 0, b(3))).ok);
  engine.crash();
  const restarted = new AcceptorService({ runtime: createTestRuntime({ storage: engine }) });
  assert.equal(restarted.promiseInMemory(key), undefined);
  const late = await restarted.accept(key, b(3), proposalOf(b(3), "after restart"));
  assert.ok(!late.ok && late.refusal === "ballot", "the promise the crash forgot is below the reservation: its accept is refused");
  assert.ok(!(await restarted.prepare(key, b(2, "n2"))).ok);
  assert.equal(new TextDecoder().decode(restarted.record(key)?.accepted?.value?.value), "one");
});

test("an evicted piggybacked promise still binds through the eviction floor", async () => {
  const acceptor = new AcceptorService({ runtime: createTestRuntime({ storage: new MemoryStorageEngine() }), promisesInMemoryMax: 1 });
  const other = encodeItemKey(7, new TextEncoder().encode("other"));
  assert.ok((await acceptor.prepare(key, b(1))).ok);
  assert.ok((await acceptor.accept(key, b(1), proposalOf(b(1), "one"), 0, b(5))).ok);
  assert.ok((await acceptor.prepare(other, b(2, "n2"))).ok, "evicts the piggybacked promise of key");
  assert.equal(acceptor.promiseInMemory(key), undefined);
  assert.deepEqual(await acceptor.prepare(key, b(4, "n2")), { ok: false, refusal: "ballot", promised: b(5) });
  assert.ok((await acceptor.accept(key, b(5), proposalOf(b(5), "two"))).ok, "the promised ballot itself is still taken");
});

test("collecting a tombstone raises the floor past a piggybacked promise", async () => {
  const { acceptor } = setup();
  assert.ok((await acceptor.prepare(key, b(1))).ok);
  assert.ok((await acceptor.accept(key, b(1), { value: undefined, origins: [b(1)], originsFloor: ballotZero }, 0, b(3))).ok);
  assert.deepEqual(await acceptor.collect(key, b(1)), { ok: true, dropped: true });
  assert.deepEqual(acceptor.floor(key), b(3));
  assert.ok(!(await acceptor.accept(key, b(3), proposalOf(b(3), "back"))).ok);
});

test("a second delivery of a stored accept that piggybacked a promise answers as the first did, not as a refusal", async () => {
  // A duplicated message: the copy meets the acceptor's promise of `next` (made by the first
  // copy); refused, a proposer that saw the refusal first took its stored value for one never
  // accepted and decided again on top of it (a CAS answered "fail" after its own write).
  const { acceptor } = setup();
  const first = b(10, "n2");
  const next = b(11, "n2");
  assert.ok((await acceptor.prepare(key, first)).ok);
  const proposal = { value: value("v", "10.n2"), origins: [first], originsFloor: ballotZero };
  assert.deepEqual(await acceptor.accept(key, first, proposal, 0, next), { ok: true, next: true });
  assert.deepEqual(await acceptor.accept(key, first, proposal, 0, next), { ok: true, next: true });
  assert.ok((await acceptor.prepare(key, b(20, "n3"))).ok);
  assert.deepEqual(await acceptor.accept(key, first, proposal, 0, next), { ok: true }, "still accepted, but the promise of next is gone");
  assert.deepEqual(await acceptor.accept(key, b(9, "n2"), proposal), { ok: false, refusal: "ballot", promised: b(20, "n3") }, "a round it never accepted is refused");
});

test("a collect whose write fails leaves the floors as storage holds them (the kept copy is dropped)", async () => {
  const { engine, acceptor } = setup();
  assert.ok((await acceptor.prepare(key, b(3))).ok);
  assert.ok((await acceptor.accept(key, b(3), { value: undefined, origins: [b(3)], originsFloor: ballotZero })).ok);
  assert.deepEqual(acceptor.floor(key), ballotZero, "the floor is read (and kept) before the collect");
  const write = engine.write.bind(engine);
  engine.write = () => Promise.reject(new Error("disk full"));
  await assert.rejects(acceptor.collect(key, b(3)), /disk full/);
  engine.write = write;
  assert.deepEqual(acceptor.floor(key), ballotZero, "nothing was written, so no floor was raised");
  assert.deepEqual(acceptor.record(key)?.accepted?.ballot, b(3), "the tombstone is still there");
  assert.deepEqual(await acceptor.collect(key, b(3)), { ok: true, dropped: true });
  assert.deepEqual(acceptor.floor(key), b(3));
});

test("a write that failed after storing still binds: a later accept below its ballot is refused without reading the record", async () => {
  // An accept that finds the key's promise in memory trusts it over the record (it skips the
  // read); a failed write may still have stored its record, so the promise in memory must rise
  // to the record's before the failure is reported. Checked for accept and for the local round.
  for (const via of ["accept", "alone"] as const) {
    const { engine, acceptor } = setup();
    assert.ok((await acceptor.prepare(key, b(5))).ok, "a promise in memory at 5");
    const write = engine.write.bind(engine);
    engine.write = async (...args: Parameters<MemoryStorageEngine["write"]>) => {
      await write(...args);
      throw new Error("the disk answered an error after the write landed");
    };
    const proposal = { value: value("v10", "10.n1"), origins: [b(10)], originsFloor: ballotZero };
    if (via === "accept") await assert.rejects(acceptor.accept(key, b(10), proposal), /after the write landed/);
    else await assert.rejects(acceptor.alone(key, 0, 0, () => ({ store: { promised: b(10), accepted: { ...proposal, ballot: b(10), acceptedAtMs: 0 } }, answer: true })), /after the write landed/);
    engine.write = write;
    assert.deepEqual(acceptor.record(key)?.promised, b(10), `${via}: the record was stored with promise 10`);
    const older = { value: value("v7", "7.n2"), origins: [b(7, "n2")], originsFloor: ballotZero };
    assert.deepEqual(await acceptor.accept(key, b(7, "n2"), older), { ok: false, refusal: "ballot", promised: b(10) }, `${via}: an accept below the stored promise is refused`);
    assert.equal(new TextDecoder().decode(acceptor.record(key)?.accepted?.value?.value), "v10");
  }
});

test("an accept with a promise in memory does not read the key's record", async () => {
  const { engine, acceptor } = setup();
  assert.ok((await acceptor.prepare(key, b(5))).ok);
  let reads = 0;
  const get = engine.get.bind(engine);
  engine.get = (k) => {
    if (Buffer.from(k).equals(Buffer.from(key))) reads++;
    return get(k);
  };
  const proposal = { value: value("v", "5.n1"), origins: [b(5)], originsFloor: ballotZero };
  assert.deepEqual(await acceptor.accept(key, b(5), proposal, 0, b(6)), { ok: true, next: true });
  assert.deepEqual(await acceptor.accept(key, b(6), proposal, 0, b(7)), { ok: true, next: true });
  assert.equal(reads, 0, "both accepts found the promise in memory");
  engine.get = get;
});
