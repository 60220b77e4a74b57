import { test } from "node:test";
import assert from "node:assert/strict";
import { gatedAcceptors } from "../node/acceptor-relearn.js";
import { createTestRuntime } from "../node/test-runtime.js";
import type { Network, NodeId, RequestHandler, RequestResult } from "../runtime/network.js";
import { Simulation } from "../sim/simulation.js";
import { encodeItemKey } from "../storage/item-key.js";
import { MemoryStorageEngine } from "../storage/memory-storage-engine.js";
import type { WriteOp, WriteOptions } from "../storage/storage-engine.js";
import { isRemoteFailure } from "../transport/remote-failure.js";
import type { Proposal } from "./acceptor-record.js";
import { AcceptorBatcher, acceptorBatchDefaults, batchItemsMaxAccepted, batchMessageType } from "./acceptor-batch.js";
import { AcceptorService, type AcceptReply } from "./acceptor-service.js";
import { ballotToTuple, ballotZero, type Ballot } from "./ballot.js";
import { acceptMessage, peekMessage, prepareMessage, type PaxosRequest } from "./paxos-messages.js";
import { StrongCoordinator, type StrongVersioned } from "./strong-coordinator.js";

// Batched acceptor messages (acceptor-batch.ts; README "Batched acceptor messages"): the
// receiver runs each item as alone, under one storage write, answering each in its place; the
// sender gathers per node within bounds and fails every item of a batch that failed as a whole.

const encoder = new TextEncoder();
const keyOf = (name: string): Uint8Array => encodeItemKey(1, encoder.encode(name));
const b = (counter: number, node = "n1"): Ballot => ({ counter, node });

function value(text: string): StrongVersioned {
  return { value: encoder.encode(text), contentType: "text/plain", metadata: [], expiresAtMs: null, timestamp: 5, version: `${text}.n1` };
}
const proposal = (text: string, origin: Ballot): Proposal => ({ value: value(text), origins: [origin], originsFloor: ballotZero });

/** An acceptor on a MemoryStorageEngine whose writes are counted, and optionally held (never committed: the process dies first). */
function acceptorNode(options: { holdWrites?: boolean; throwOn?: string } = {}) {
  const engine = new MemoryStorageEngine();
  const writes: (readonly WriteOp[])[] = [];
  const storage = Object.create(engine) as MemoryStorageEngine;
  storage.write = (ops: readonly WriteOp[], writeOptions?: WriteOptions) => {
    writes.push(ops);
    return options.holdWrites === true ? new Promise<void>(() => undefined) : engine.write(ops, writeOptions);
  };
  const runtime = createTestRuntime({ storage, nodeId: "n2" });
  const throwOn = options.throwOn;
  class Failing extends AcceptorService {
    override accept(key: Uint8Array, ballot: Ballot, p: Proposal, ringVersion?: number, next?: Ballot): Promise<AcceptReply> {
      if (throwOn !== undefined && Buffer.from(key).equals(Buffer.from(keyOf(throwOn)))) return Promise.reject(new Error("disk on fire"));
      return super.accept(key, ballot, p, ringVersion, next);
    }
  }
  const acceptors = new Failing({ runtime });
  const placement = { acceptorsFor: () => ({ acceptors: ["n1", "n2", "n3"] }) };
  const strong = new StrongCoordinator({ runtime, acceptors, placement, requestTimeoutMs: 100 });
  return { engine, acceptors, strong, writes };
}

const batch = (items: unknown[]): unknown => ({ type: batchMessageType, items });

test("a batch answers each item in its place, refusals and successes mixed, under one storage write", async () => {
  const { acceptors, strong, writes } = acceptorNode();
  assert.ok((await acceptors.prepare(keyOf("promised"), b(10, "n3"))).ok);
  assert.ok((await acceptors.accept(keyOf("old"), b(2), proposal("old", b(2)))).ok);
  const before = writes.length;
  const reply = (await strong.handle("n1", batch([
    acceptMessage(keyOf("a"), b(5), proposal("A", b(5))),
    acceptMessage(keyOf("promised"), b(5), proposal("late", b(5))),
    prepareMessage(keyOf("c"), b(7)),
    { ...acceptMessage(keyOf("d"), b(5), proposal("D", b(5))), ballot: "garbage" },
    acceptMessage(keyOf("e"), b(6), proposal("E", b(6))),
    peekMessage(keyOf("old"), 0),
  ]))) as { ok: boolean; replies: unknown[] };
  assert.equal(reply.ok, true);
  assert.equal(reply.replies.length, 6);
  assert.deepEqual(reply.replies[0], { ok: true });
  assert.deepEqual(reply.replies[1], { ok: false, refusal: "ballot", promised: ballotToTuple(b(10, "n3")) });
  assert.deepEqual(reply.replies[2], { ok: true, accepted: null, collectedFloor: ballotToTuple(ballotZero) });
  assert.equal((reply.replies[3] as { refusal?: string }).refusal, "malformed");
  assert.deepEqual(reply.replies[4], { ok: true });
  assert.deepEqual((reply.replies[5] as { ballot?: unknown }).ballot, ballotToTuple(b(2)));
  assert.deepEqual(writes.length - before, 1, "both accepted records went into one storage write");
  assert.deepEqual(writes.at(-1)!.length, 2);
  assert.equal(acceptors.record(keyOf("promised"))?.accepted, undefined, "the refused accept stored nothing");
  assert.equal(acceptors.record(keyOf("d")), undefined, "the malformed item ran nothing");
  assert.deepEqual(acceptors.record(keyOf("e"))?.accepted?.ballot, b(6));
});

test("an item that throws answers a remote failure in its place; the rest of the batch is answered", async () => {
  const { acceptors, strong } = acceptorNode({ throwOn: "bad" });
  const reply = (await strong.handle("n1", batch([acceptMessage(keyOf("a"), b(5), proposal("A", b(5))), acceptMessage(keyOf("bad"), b(5), proposal("B", b(5))), prepareMessage(keyOf("c"), b(5))]))) as { replies: unknown[] };
  assert.deepEqual(reply.replies[0], { ok: true });
  assert.ok(isRemoteFailure(reply.replies[1]), JSON.stringify(reply.replies[1]));
  assert.equal((reply.replies[2] as { ok?: boolean }).ok, true);
  assert.deepEqual(acceptors.record(keyOf("a"))?.accepted?.ballot, b(5));
});

test("a crash between receiving a batch and its commit answers nothing and keeps nothing", async () => {
  const { engine, strong, writes } = acceptorNode({ holdWrites: true });
  let answered = false;
  void strong.handle("n1", batch([acceptMessage(keyOf("a"), b(5), proposal("A", b(5))), acceptMessage(keyOf("b"), b(5), proposal("B", b(5)))])).then(() => (answered = true));
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  assert.equal(writes.length, 1, "the batch's records were handed to storage in one write");
  assert.equal(answered, false, "no item is answered before its write is durable");
  // The process dies here; a restarted acceptor reads the disk as it was.
  const restarted = new AcceptorService({ runtime: createTestRuntime({ storage: engine, nodeId: "n2" }) });
  assert.equal(restarted.record(keyOf("a")), undefined);
  assert.equal(restarted.record(keyOf("b")), undefined);
});

test("a batch over the bounds, empty, or holding another kind of message is refused whole and runs nothing", async () => {
  const { acceptors, strong, writes } = acceptorNode();
  const tooMany = Array.from({ length: batchItemsMaxAccepted + 1 }, (_, i) => acceptMessage(keyOf(`k${i}`), b(5), proposal("x", b(5))));
  for (const message of [batch(tooMany), batch([]), { type: batchMessageType }, batch([acceptMessage(keyOf("a"), b(5), proposal("A", b(5))), { type: "paxos.fence", ringVersion: 9 }])]) {
    const reply = (await strong.handle("n1", message)) as { ok: boolean; refusal?: string; message?: string };
    assert.equal(reply.ok, false);
    assert.equal(reply.refusal, "malformed");
    assert.match(reply.message ?? "", /paxos\.batch/);
  }
  assert.equal(writes.length, 0);
  assert.equal(acceptors.record(keyOf("a")), undefined);
  assert.equal(acceptors.ringFence, 0);
  assert.match(((await strong.handle("n1", batch(tooMany))) as { message: string }).message, new RegExp(`${batchItemsMaxAccepted + 1} items; a batch holds 1 to ${batchItemsMaxAccepted}`));
});

test("a relearning acceptor's gate refuses every item of a batch, as it refuses them alone", async () => {
  const engine = new MemoryStorageEngine();
  const runtime = createTestRuntime({ storage: engine, nodeId: "n2" });
  const acceptors = gatedAcceptors(new AcceptorService({ runtime }), () => true);
  const strong = new StrongCoordinator({ runtime, acceptors, placement: { acceptorsFor: () => ({ acceptors: ["n1", "n2"] }) }, requestTimeoutMs: 100 });
  const reply = (await strong.handle("n1", batch([acceptMessage(keyOf("a"), b(5), proposal("A", b(5))), prepareMessage(keyOf("c"), b(7)), peekMessage(keyOf("a"), 0)]))) as { replies: unknown[] };
  assert.deepEqual(reply.replies, [0, 1, 2].map(() => ({ ok: false, refusal: "overloaded" })));
  assert.equal(engine.get(keyOf("a")), undefined);
});

/** A network whose requests the test answers by hand. */
class FakeNetwork implements Network {
  readonly sent: { to: NodeId; message: unknown; answer(result: RequestResult): void }[] = [];
  request<T>(to: NodeId, message: unknown): Promise<RequestResult<T>> {
    return new Promise((resolve) => this.sent.push({ to, message, answer: resolve as (result: RequestResult) => void }));
  }
  send(): void {}
  serve(_handler: RequestHandler): void {}
}

const flushNow = (flush: () => void): void => void Promise.resolve().then(flush);
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};
const itemsOf = (message: unknown): PaxosRequest[] => (message as { items: PaxosRequest[] }).items;

test("the sender gathers one window's messages per node into one batch and hands each its own answer", async () => {
  const network = new FakeNetwork();
  const batcher = new AcceptorBatcher(network, 100, { schedule: flushNow });
  const toN2 = [0, 1, 2].map((i) => batcher.request("n2", prepareMessage(keyOf(`k${i}`), b(i + 1))));
  const toN3 = [0, 1].map((i) => batcher.request("n3", prepareMessage(keyOf(`k${i}`), b(i + 1))));
  await settle();
  assert.equal(network.sent.length, 2);
  const [n2, n3] = network.sent;
  assert.equal(n2!.to, "n2");
  assert.equal((n2!.message as { type: string }).type, batchMessageType);
  assert.equal(itemsOf(n2!.message).length, 3);
  assert.equal(itemsOf(n3!.message).length, 2);
  n2!.answer({ ok: true, reply: { ok: true, replies: ["r0", "r1", "r2"] } });
  n3!.answer({ ok: false, error: "timeout" });
  assert.deepEqual(await Promise.all(toN2), ["r0", "r1", "r2"].map((reply) => ({ ok: true, reply })));
  assert.deepEqual(await Promise.all(toN3), [{ ok: false, error: "timeout" }, { ok: false, error: "timeout" }], "a batch that failed whole fails every item alike");
  assert.deepEqual(batcher.counts, { batches: 2, batchedItems: 5, single: 0 });
});

test("the sender's bounds: itemsMax items per batch, bytesMax bytes, a lone item as the plain message", async () => {
  const network = new FakeNetwork();
  const batcher = new AcceptorBatcher(network, 100, { schedule: flushNow, itemsMax: 2, bytesMax: 1000 });
  for (let i = 0; i < 5; i++) void batcher.request("n2", prepareMessage(keyOf(`k${i}`), b(1)));
  await settle();
  assert.deepEqual(network.sent.map((s) => (s.message as { type: string }).type), [batchMessageType, batchMessageType, "paxos.prepare"]);
  assert.deepEqual(network.sent.slice(0, 2).map((s) => itemsOf(s.message).length), [2, 2]);
  network.sent.length = 0;
  const big = (name: string, bytes: number): PaxosRequest => acceptMessage(keyOf(name), b(1), { value: { ...value("x"), value: new Uint8Array(bytes) }, origins: [], originsFloor: ballotZero });
  void batcher.request("n2", big("a", 600));
  void batcher.request("n2", big("b", 600));
  void batcher.request("n2", big("huge", 5000));
  await settle();
  assert.deepEqual(network.sent.map((s) => (s.message as { type: string }).type), ["paxos.accept", "paxos.accept", "paxos.accept"], "two 600-byte values do not fit 1000 bytes; 5000 goes alone");
});

test("an unreadable batch reply fails each item; a node that does not know batches gets the items one by one", async () => {
  const network = new FakeNetwork();
  const batcher = new AcceptorBatcher(network, 100, { schedule: flushNow });
  const short = [0, 1].map((i) => batcher.request("n2", prepareMessage(keyOf(`k${i}`), b(1))));
  await settle();
  network.sent[0]!.answer({ ok: true, reply: { ok: true, replies: ["only one"] } });
  for (const result of await Promise.all(short)) assert.equal((result as { ok: true; reply: { refusal: string } }).reply.refusal, "malformed");
  network.sent.length = 0;
  const old = [0, 1].map((i) => batcher.request("n3", prepareMessage(keyOf(`k${i}`), b(1))));
  await settle();
  network.sent[0]!.answer({ ok: true, reply: { ok: false, refusal: "malformed", message: `unknown paxos message ${batchMessageType}` } });
  await settle();
  assert.deepEqual(network.sent.slice(1).map((s) => (s.message as { type: string }).type), ["paxos.prepare", "paxos.prepare"]);
  network.sent[1]!.answer({ ok: true, reply: "p0" });
  network.sent[2]!.answer({ ok: true, reply: "p1" });
  assert.deepEqual(await Promise.all(old), [{ ok: true, reply: "p0" }, { ok: true, reply: "p1" }]);
  void batcher.request("n3", prepareMessage(keyOf("x"), b(1)));
  void batcher.request("n3", prepareMessage(keyOf("y"), b(1)));
  await settle();
  assert.deepEqual(network.sent.slice(3).map((s) => (s.message as { type: string }).type), ["paxos.prepare", "paxos.prepare"], "no more batches to that node");
});

test("concurrent changes of many keys through one proposer travel in batches and all succeed (simulated cluster)", async () => {
  const ids = ["n1", "n2", "n3"];
  const placement = { acceptorsFor: (_key: Uint8Array, n: number) => ({ acceptors: ids.slice(0, n) }) };
  const sim = new Simulation({ seed: 11 });
  for (const id of ids) {
    sim.addNode(id, (runtime) => {
      const acceptors = new AcceptorService({ runtime });
      const strong = new StrongCoordinator({ runtime, acceptors, placement, requestTimeoutMs: 200, acceptorBatch: acceptorBatchDefaults });
      runtime.network.serve((from, message) => strong.handle(from, message));
      return { strong, acceptors };
    });
  }
  await sim.bootAll();
  const n1 = sim.node<{ strong: StrongCoordinator; acceptors: AcceptorService }>("n1").instance!;
  const n2 = sim.node<{ strong: StrongCoordinator; acceptors: AcceptorService }>("n2").instance!;
  const results = await sim.settle(Promise.all(Array.from({ length: 40 }, (_, i) => n1.strong.change(keyOf(`k${i}`), 3, () => ({ type: "set", value: value(`v${i}`) })))));
  assert.deepEqual(results.filter((r) => !r.ok), []);
  const counts = n1.strong.batchCounts;
  assert.ok(counts.batches > 0 && counts.batchedItems > counts.single, JSON.stringify(counts));
  assert.ok(n2.acceptors.storeCounts.writes < n2.acceptors.storeCounts.records, `records shared writes at n2: ${JSON.stringify(n2.acceptors.storeCounts)}`);
  for (let i = 0; i < 40; i += 13) assert.equal(new TextDecoder().decode(n2.acceptors.record(keyOf(`k${i}`))?.accepted?.value?.value), `v${i}`);
});
