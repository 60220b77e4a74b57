import { test } from "node:test";
import assert from "node:assert/strict";
import { gatedAcceptors } from "../node/acceptor-relearn.js";
import { createTestRuntime } from "../node/test-runtime.js";
import { MemoryStorageEngine } from "../storage/memory-storage-engine.js";
import { encodeItemKey } from "../storage/item-key.js";
import type { Proposal } from "./acceptor-record.js";
import { AcceptorService } from "./acceptor-service.js";
import { ballotZero, compareBallots, type Ballot } from "./ballot.js";
import type { PendingChange } from "./change-batch.js";
import { LocalChange, type LocalChangeOptions } from "./local-change.js";
import type { RoundPlacement } from "./proposer.js";
import { StrongCoordinator, type StrongDecision, type StrongVersioned } from "./strong-coordinator.js";

// The whole CASPaxos round at this node's acceptor when it is the key's only acceptor
// (README, "One local write"): one durable write, a ballot above every promise and floor, and
// every refusal of the acceptor's handlers honoured; remote proposers on the same acceptor
// interleave through the same promises.

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const key = encodeItemKey(7, encoder.encode("k"));
const self: RoundPlacement = { sets: [["n1"]], epoch: 0 };

function setup(options: Partial<Omit<LocalChangeOptions, "ringVersion">> & { engine?: MemoryStorageEngine; nodeRing?: number } = {}): { engine: MemoryStorageEngine; acceptor: AcceptorService; local: LocalChange; runtime: ReturnType<typeof createTestRuntime> } {
  const engine = options.engine ?? new MemoryStorageEngine();
  const runtime = createTestRuntime({ storage: engine });
  const acceptor = options.acceptors ?? new AcceptorService({ runtime });
  const local = new LocalChange({ runtime, acceptors: acceptor, ringVersion: () => options.nodeRing ?? 0, collectTombstones: true, ...options });
  return { engine, acceptor, local, runtime };
}

function countWrites(engine: MemoryStorageEngine): { count: number } {
  const counter = { count: 0 };
  const write = engine.write.bind(engine);
  engine.write = (...args: Parameters<MemoryStorageEngine["write"]>) => {
    counter.count++;
    return write(...args);
  };
  return counter;
}

const set = (text: string, expiresAtMs: number | null = null): PendingChange => ({ read: false, decide: (): StrongDecision => ({ type: "set", value: { value: encoder.encode(text), contentType: "text/plain", metadata: [], expiresAtMs } }) });
const append = (suffix: string): PendingChange => ({
  read: false,
  decide: (current): StrongDecision => ({ type: "set", value: { value: encoder.encode(`${current === undefined ? "" : decoder.decode(current.value)}${suffix}`), contentType: "text/plain", metadata: [], expiresAtMs: null } }),
});
const remove: PendingChange = { read: false, decide: () => ({ type: "delete" }) };
const read: PendingChange = { read: true, decide: () => ({ type: "keep" }) };

function textOf(value: StrongVersioned | undefined): string | undefined {
  return value === undefined ? undefined : decoder.decode(value.value);
}

function proposal(text: string, ballot: Ballot): Proposal {
  return { value: { value: encoder.encode(text), contentType: "text/plain", metadata: [], expiresAtMs: null, timestamp: 1, version: `${ballot.counter}.${ballot.node}` }, origins: [ballot], originsFloor: ballotZero };
}

async function change(local: LocalChange, changes: PendingChange[], placed = self): Promise<(StrongVersioned | undefined)[] | undefined> {
  const result = await local.run(key, placed, changes);
  if (result === undefined) return undefined;
  assert.ok(result.ok, JSON.stringify(result));
  return result.outcomes.map((outcome) => {
    assert.ok(outcome.ok);
    return outcome.change.after;
  });
}

test("a batch is one durable write that stores the value as accepted and promised at one new ballot", async () => {
  const { engine, acceptor, local } = setup();
  const writes = countWrites(engine);
  assert.deepEqual((await change(local, [set("a"), append("b"), append("c")]))?.map(textOf), ["a", "ab", "abc"]);
  assert.equal(writes.count, 1, "one write for the whole batch");
  const record = acceptor.record(key);
  assert.ok(record?.accepted !== undefined);
  assert.deepEqual(record.promised, record.accepted.ballot);
  assert.equal(textOf(record.accepted.value), "abc");
  assert.deepEqual(record.accepted.origins, [record.accepted.ballot], "the lineage names this round");
  const first = record.accepted.ballot;
  assert.deepEqual((await change(local, [append("d")]))?.map(textOf), ["abcd"]);
  assert.ok(compareBallots(acceptor.record(key)!.accepted!.ballot, first) > 0, "every round takes a higher ballot");
  assert.equal(writes.count, 2);
  assert.deepEqual(local.counts, { local: 2, handedBack: 0 });
});

test("only a placement whose every set is exactly this node is local", () => {
  const { local } = setup();
  assert.equal(local.applies({ sets: [["n1"]], epoch: 3 }), true);
  assert.equal(local.applies({ sets: [["n1"], ["n1"]], epoch: 3 }), true);
  assert.equal(local.applies({ sets: [["n2"]], epoch: 3 }), false);
  assert.equal(local.applies({ sets: [["n1", "n2"]], epoch: 3 }), false);
  assert.equal(local.applies({ sets: [["n1"], ["n2"]], epoch: 3 }), false, "a partition moving away (joint sets)");
  assert.equal(local.applies({ sets: [["n2"], ["n1"]], epoch: 3 }), false, "a partition moving here");
  assert.equal(local.applies({ sets: [], epoch: 3 }), false);
});

test("a remote proposer's promise is outbid: its accept is then refused, so no change is lost", async () => {
  const { acceptor, local } = setup();
  await change(local, [set("x")]);
  // A remote proposer prepares at a ballot far above the clock, reads "x", and will accept "x+r".
  const remote: Ballot = { counter: Number.MAX_SAFE_INTEGER - 10, node: "n9" };
  const promised = await acceptor.prepare(key, remote);
  assert.ok(promised.ok && textOf(promised.accepted?.value) === "x");
  assert.deepEqual((await change(local, [append("+local")]))?.map(textOf), ["x+local"]);
  const ballot = acceptor.record(key)!.accepted!.ballot;
  assert.ok(compareBallots(ballot, remote) > 0, "the local ballot is above the remote promise");
  const refused = await acceptor.accept(key, remote, proposal("x+r", remote));
  assert.equal(refused.ok, false, "the remote accept built on the old value is refused");
  assert.equal(textOf(acceptor.record(key)?.accepted?.value), "x+local");
});

test("the test-only variant that ignores promises loses the change under a remote proposer (what the checker must catch)", async () => {
  const { acceptor, local } = setup({ unsafeIgnorePromises: true });
  await change(local, [set("x")]);
  const remote: Ballot = { counter: Number.MAX_SAFE_INTEGER - 10, node: "n9" };
  assert.ok((await acceptor.prepare(key, remote)).ok);
  await change(local, [append("+local")]);
  assert.deepEqual(await acceptor.accept(key, remote, proposal("x+r", remote)), { ok: true });
  assert.equal(textOf(acceptor.record(key)?.accepted?.value), "x+r", "the local change is gone");
});

test("a piggybacked promise of a remote proposer is outbid too: its one-round accept is refused", async () => {
  const { acceptor, local } = setup();
  const first: Ballot = { counter: Number.MAX_SAFE_INTEGER - 20, node: "n9" };
  const next: Ballot = { counter: Number.MAX_SAFE_INTEGER - 19, node: "n9" };
  assert.ok((await acceptor.prepare(key, first)).ok);
  assert.deepEqual(await acceptor.accept(key, first, proposal("r1", first), 0, next), { ok: true, next: true });
  assert.deepEqual((await change(local, [append("+local")]))?.map(textOf), ["r1+local"]);
  assert.equal((await acceptor.accept(key, next, proposal("r2", next))).ok, false);
  assert.equal(textOf(acceptor.record(key)?.accepted?.value), "r1+local");
});

test("an older ring than the node's or the fence, or a promise of a newer ring, hands the batch back with nothing stored", async () => {
  const engine = new MemoryStorageEngine();
  const { acceptor, local } = setup({ engine, nodeRing: 3 });
  const writes = countWrites(engine);
  assert.equal(await local.run(key, { sets: [["n1"]], epoch: 2 }, [set("old ring")]), undefined, "epoch 2 on a node at ring 3");
  await acceptor.fence(4);
  const afterFence = writes.count;
  assert.equal(await local.run(key, { sets: [["n1"]], epoch: 3 }, [set("fenced")]), undefined, "epoch 3 behind the fence at 4");
  const newer: Ballot = { epoch: 5, counter: 1, node: "n9" };
  assert.ok((await acceptor.prepare(key, newer, 3)).ok);
  assert.equal(await local.run(key, { sets: [["n1"]], epoch: 4 }, [set("behind a promise")]), undefined, "a promise of ring 5 outbids every ballot of ring 4");
  assert.equal(writes.count, afterFence + 1, "only the promise's reservation was written");
  assert.equal(acceptor.record(key)?.accepted, undefined);
  assert.deepEqual(local.counts, { local: 0, handedBack: 3 });
  assert.deepEqual((await change(local, [set("new ring")], { sets: [["n1"]], epoch: 5 }))?.map(textOf), ["new ring"]);
  assert.equal(acceptor.record(key)?.accepted?.ballot.epoch, 5);
});

test("the fence waits for a local round it admitted", async () => {
  const engine = new MemoryStorageEngine();
  const { acceptor, local } = setup({ engine });
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  let writing = false;
  const write = engine.write.bind(engine);
  engine.write = async (...args: Parameters<MemoryStorageEngine["write"]>) => {
    if (!writing) {
      // The local round's write (the first) waits until the test releases it.
      writing = true;
      await held;
    }
    return write(...args);
  };
  const running = local.run(key, self, [set("v")]);
  while (!writing) await new Promise((resolve) => setImmediate(resolve));
  let fenced = false;
  const fence = acceptor.fence(1).then(() => (fenced = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(fenced, false, "the fence answered while a round it let in was still writing");
  release();
  const [result] = await Promise.all([running, fence]);
  assert.ok(result?.ok);
  assert.equal(textOf(acceptor.record(key)?.accepted?.value), "v");
  assert.equal(await local.run(key, self, [set("after")]), undefined, "epoch 0 is behind the fence now");
});

test("after a restart the ballot is above the durable reservation (promises the crash forgot)", async () => {
  const engine = new MemoryStorageEngine();
  const first = setup({ engine });
  const remote: Ballot = { counter: Number.MAX_SAFE_INTEGER - 1_000_000_000, node: "n9" };
  assert.ok((await first.acceptor.prepare(key, remote)).ok, "a promise kept in memory, under the reservation");
  const again = setup({ engine });
  await change(again.local, [set("after restart")]);
  assert.ok(compareBallots(again.acceptor.record(key)!.accepted!.ballot, remote) > 0, "the forgotten promise is outbid");
});

test("a delete is a tombstone the GC step collects at once; the floor then keeps old rounds out and later ballots go above it", async () => {
  const { acceptor, local } = setup();
  const remote: Ballot = { counter: 5, node: "n9" };
  assert.ok((await acceptor.prepare(key, remote)).ok);
  await change(local, [set("v")]);
  const deleted = await change(local, [remove]);
  assert.deepEqual(deleted, [undefined]);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(acceptor.record(key), undefined, "the tombstone was collected");
  const floor = acceptor.floor(key);
  assert.ok(compareBallots(floor, remote) > 0);
  assert.equal((await acceptor.accept(key, remote, proposal("stale", remote))).ok, false, "an old round stays refused");
  await change(local, [set("again")]);
  assert.ok(compareBallots(acceptor.record(key)!.accepted!.ballot, floor) > 0);
  assert.equal(textOf(acceptor.record(key)?.accepted?.value), "again");
});

test("without collectTombstones a tombstone stays", async () => {
  const { acceptor, local } = setup({ collectTombstones: false });
  await change(local, [set("v"), remove]);
  await new Promise((resolve) => setImmediate(resolve));
  assert.ok(acceptor.record(key)?.accepted !== undefined && acceptor.record(key)?.accepted?.value === undefined);
});

test("an expired value is absent to the change and a read accepts it as a tombstone", async () => {
  const { acceptor, local, runtime } = setup();
  await change(local, [set("short", runtime.clock.nowMs() + 1_000)]);
  runtime.clock.advance(2_000);
  assert.deepEqual(await change(local, [read]), [undefined]);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(acceptor.record(key), undefined, "the expired value became a tombstone and was collected");
});

test("a relearning (gated) acceptor refuses the local round: handed back, nothing stored", async () => {
  const engine = new MemoryStorageEngine();
  const runtime = createTestRuntime({ storage: engine });
  const raw = new AcceptorService({ runtime });
  let gated = true;
  const local = new LocalChange({ runtime, acceptors: gatedAcceptors(raw, () => gated), ringVersion: () => 0, collectTombstones: true });
  assert.equal(await local.run(key, self, [set("v")]), undefined);
  assert.equal(raw.record(key), undefined);
  assert.equal(await local.peek(key, self), undefined, "nor does it answer a read");
  gated = false;
  assert.ok((await local.run(key, self, [set("v")]))?.ok);
  assert.equal(textOf((await local.peek(key, self))?.value), "v");
});

test("a storage write that failed answers indeterminate (it may have been stored)", async () => {
  const engine = new MemoryStorageEngine();
  const { local } = setup({ engine });
  engine.write = () => Promise.reject(new Error("disk full"));
  const result = await local.run(key, self, [set("v")]);
  assert.equal(result?.ok, false);
  assert.equal(result?.ok === false ? result.error : "", "indeterminate");
  assert.match(result?.ok === false ? result.message : "", /disk full/);
});

test("a decide that throws fails its own change only, as in the ordinary round", async () => {
  const { local } = setup();
  const result = await local.run(key, self, [set("a"), { read: false, decide: () => { throw new Error("boom"); } }, append("b")]);
  assert.ok(result?.ok);
  assert.equal(result.outcomes[1]?.ok, false);
  assert.equal(result.outcomes[2]?.ok && textOf(result.outcomes[2].change.after), "ab");
});

test("the coordinator changes a key placed on this node alone locally, and a key with other acceptors by rounds", async () => {
  const engine = new MemoryStorageEngine();
  const runtime = createTestRuntime({ storage: engine });
  const acceptors = new AcceptorService({ runtime });
  const strong = new StrongCoordinator({ runtime, acceptors, placement: { acceptorsFor: (_key, n) => ({ acceptors: n === 1 ? ["n1"] : ["n1", "n2", "n3"] }) }, requestTimeoutMs: 50, attemptsMax: 1 });
  const writes = countWrites(engine);
  const decide = (): StrongDecision => ({ type: "set", value: { value: encoder.encode("v"), contentType: "text/plain", metadata: [], expiresAtMs: null } });
  const changed = await Promise.all([strong.change(key, 1, decide), strong.change(key, 1, decide), strong.change(key, 1, decide)]);
  assert.ok(changed.every((result) => result.ok));
  assert.deepEqual(strong.localCounts, { local: 2, handedBack: 0 }, "the first change, then the two that queued behind it together");
  assert.equal(writes.count, 2);
  assert.equal(strong.roundCounts.twoTrips, 0);
  const fast = await strong.readFast(key, 1);
  assert.ok(fast.ok && textOf(fast.value) === "v");
  assert.equal(strong.readCounts.fast, 1);
  // n = 3 with unreachable peers: the ordinary rounds run (and cannot reach a majority).
  const remote = await strong.change(key, 3, decide);
  assert.equal(remote.ok, false);
  assert.equal(strong.roundCounts.twoTrips, 1);
  const off = new StrongCoordinator({ runtime, acceptors, placement: { acceptorsFor: () => ({ acceptors: ["n1"] }) }, requestTimeoutMs: 50, localChanges: false });
  assert.ok((await off.change(key, 1, decide)).ok);
  assert.deepEqual(off.localCounts, { local: 0, handedBack: 0 });
  assert.equal(off.roundCounts.twoTrips, 1, "localChanges: false keeps the ordinary rounds");
});
