import { test } from "node:test";
import assert from "node:assert/strict";
import type { Network, NodeId } from "../runtime/network.js";
import type { Runtime } from "../runtime/runtime.js";
import { Simulation } from "../sim/simulation.js";
import { encodeItemKey } from "../storage/item-key.js";
import type { Proposal } from "./acceptor-record.js";
import { AcceptorService, type AcceptReply } from "./acceptor-service.js";
import type { Ballot } from "./ballot.js";
import { StrongCoordinator, type StrongCoordinatorOptions, type StrongValue } from "./strong-coordinator.js";
import type { WriteCondition } from "../replica/item-write.js";
import { forwardMessage, parseForwardReply, strongWriteRefusal, type ChangeKinds, type StrongWrite } from "./strong-write.js";

// Forwarding strong writes to the key's first live primary (README, "Forwarding writes to the
// first primary"), on a simulated three-node cluster whose every key has the acceptors n1, n2,
// n3 in that order: n1 is the first primary.

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const requestTimeoutMs = 200;

/** An acceptor whose accept answers can be held back (the reply never comes) after it stored the value. */
class SlowAcceptor extends AcceptorService {
  holdAcceptReplies = false;
  override async accept(key: Uint8Array, ballot: Ballot, proposal: Proposal, ringVersion?: number, next?: Ballot): Promise<AcceptReply> {
    const reply = await super.accept(key, ballot, proposal, ringVersion, next);
    return this.holdAcceptReplies ? new Promise<AcceptReply>(() => undefined) : reply;
  }
}

interface Node {
  strong: StrongCoordinator;
  acceptors: SlowAcceptor;
}

/** Who each node believes is up (the test's membership), and forwards its network refuses as overloaded. */
interface World {
  sim: Simulation;
  down: Set<NodeId>;
  overloadForwards: Set<NodeId>;
  /** Nodes that answer forwards as a node of the version before forwarding did (a malformed paxos request). */
  oldVersion: Set<NodeId>;
}

async function world(seed: number, coordinator: Partial<StrongCoordinatorOptions> = {}): Promise<World> {
  const ids = ["n1", "n2", "n3"];
  const down = new Set<NodeId>();
  const overloadForwards = new Set<NodeId>();
  const oldVersion = new Set<NodeId>();
  const sim = new Simulation({ seed });
  for (const id of ids) {
    sim.addNode(id, (runtime): Node => {
      const real = runtime.network!;
      // The refusal a TCP peer link gives before sending (too many requests in flight).
      const network: Network = {
        request: (to, message, options) =>
          overloadForwards.has(id) && (message as { type?: unknown }).type === "paxos.forward" ? Promise.resolve({ ok: false, error: "overloaded" }) : real.request(to, message, options),
        send: (to, message) => real.send(to, message),
        serve: (handler) => real.serve(handler),
      };
      const wrapped: Runtime = { nodeId: runtime.nodeId, clock: runtime.clock, hlc: runtime.hlc, timers: runtime.timers, random: runtime.random, storage: runtime.storage, network };
      const acceptors = new SlowAcceptor({ runtime: wrapped });
      const strong = new StrongCoordinator({
        runtime: wrapped,
        acceptors,
        placement: { acceptorsFor: (_key, n) => ({ acceptors: ids.slice(0, n) }) },
        requestTimeoutMs,
        forwardWrites: { isUp: (node) => !down.has(node) },
        ...coordinator,
      });
      real.serve((from, message) =>
        oldVersion.has(id) && (message as { type?: unknown }).type === "paxos.forward" ? { ok: false, refusal: "malformed", message: "unknown paxos message paxos.forward" } : strong.handle(from, message),
      );
      return { strong, acceptors };
    });
  }
  await sim.bootAll();
  return { sim, down, overloadForwards, oldVersion };
}

function nodeOf(w: World, id: NodeId): Node {
  const node = w.sim.node<Node>(id).instance;
  assert.ok(node !== undefined, `node ${id} is not running`);
  return node;
}

const keyOf = (name: string): Uint8Array => encodeItemKey(1, encoder.encode(name));
const valueOf = (text: string): StrongValue => ({ value: encoder.encode(text), contentType: "text/plain", metadata: [], expiresAtMs: null });
const put = (text: string, condition?: WriteCondition): StrongWrite => ({ type: "set", value: valueOf(text), ...(condition === undefined ? {} : { condition }) });

async function readText(w: World, id: NodeId, name: string): Promise<string | undefined> {
  const read = await w.sim.settle(nodeOf(w, id).strong.read(keyOf(name), 3));
  assert.ok(read.ok, JSON.stringify(read));
  return read.value === undefined ? undefined : decoder.decode(read.value.value);
}

test("a write through a node that is not the first primary is proposed there, and its next write takes one round trip", async () => {
  const w = await world(1);
  const [n1, n2, n3] = [nodeOf(w, "n1"), nodeOf(w, "n2"), nodeOf(w, "n3")];
  const first = await w.sim.settle(n2.strong.write(keyOf("k"), 3, put("one")));
  assert.ok(first.ok, JSON.stringify(first));
  assert.equal(first.value.before, undefined);
  assert.equal(decoder.decode(first.value.after!.value), "one");
  const second = await w.sim.settle(n3.strong.write(keyOf("k"), 3, put("two")));
  assert.ok(second.ok, JSON.stringify(second));
  assert.equal(decoder.decode(second.value.before!.value), "one", "the answer carries what the change saw");
  assert.deepEqual([n2.strong.forwardCounts.forwarded, n3.strong.forwardCounts.forwarded, n1.strong.forwardCounts.served], [1, 1, 2]);
  assert.deepEqual([n2.strong.roundCounts, n3.strong.roundCounts], [{ oneTrip: 0, twoTrips: 0 }, { oneTrip: 0, twoTrips: 0 }], "no round was proposed where the writes arrived");
  assert.deepEqual(n1.strong.roundCounts, { oneTrip: 1, twoTrips: 1 }, "the second write used the promise the first one's accept gave");
  const deleted = await w.sim.settle(n3.strong.write(keyOf("k"), 3, { type: "delete" }));
  assert.ok(deleted.ok && deleted.value.before !== undefined && deleted.value.after === undefined, JSON.stringify(deleted));
  assert.equal(await readText(w, "n2", "k"), undefined);
  // The first primary's own writes are proposed where they arrive.
  assert.ok((await w.sim.settle(n1.strong.write(keyOf("k"), 3, put("three")))).ok);
  assert.equal(n1.strong.forwardCounts.forwarded, 0);
  assert.equal(await readText(w, "n3", "k"), "three");
});

test("a forwarded write's condition is judged at the primary on the value its round saw", async () => {
  const w = await world(2);
  const n2 = nodeOf(w, "n2");
  const created = await w.sim.settle(n2.strong.write(keyOf("k"), 3, put("first", { ifNoneMatch: "*" })));
  assert.ok(created.ok && strongWriteRefusal(put("first", { ifNoneMatch: "*" }), created.value.before) === undefined);
  const again = put("second", { ifNoneMatch: "*" });
  const refused = await w.sim.settle(n2.strong.write(keyOf("k"), 3, again));
  assert.ok(refused.ok, JSON.stringify(refused));
  assert.match(strongWriteRefusal(again, refused.value.before) ?? "", /If-None-Match/);
  assert.equal(decoder.decode(refused.value.after!.value), "first", "a refused condition keeps the value");
  const version = refused.value.after!.version;
  const matched = put("third", { ifMatch: [version] });
  const replaced = await w.sim.settle(nodeOf(w, "n3").strong.write(keyOf("k"), 3, matched));
  assert.ok(replaced.ok && strongWriteRefusal(matched, replaced.value.before) === undefined && decoder.decode(replaced.value.after!.value) === "third");
  assert.equal(await readText(w, "n1", "k"), "third");
});

test("when the first primary is believed down, the next live primary proposes", async () => {
  const w = await world(3);
  w.down.add("n1");
  w.sim.crash("n1");
  const [n2, n3] = [nodeOf(w, "n2"), nodeOf(w, "n3")];
  assert.ok((await w.sim.settle(n3.strong.write(keyOf("k"), 3, put("v")))).ok);
  assert.ok((await w.sim.settle(n2.strong.write(keyOf("k"), 3, put("w")))).ok);
  assert.equal(n3.strong.forwardCounts.forwarded, 1, "n3 forwarded to n2");
  assert.equal(n2.strong.forwardCounts.forwarded, 0, "n2 is the first live primary: it proposed");
  assert.equal(n2.strong.forwardCounts.served, 1);
  assert.equal(await readText(w, "n3", "k"), "w");
});

/**
 * Sends `write` from n2 to the key's first primary n1, whose own acceptor and n3's store accepts
 * but never answer, so n1's round is in flight when n1 crashes right after serving the forward.
 */
async function firstPrimaryDiesMidForward<T>(w: Awaited<ReturnType<typeof world>>, write: () => Promise<T>): Promise<T> {
  const n1 = nodeOf(w, "n1");
  n1.acceptors.holdAcceptReplies = true;
  nodeOf(w, "n3").acceptors.holdAcceptReplies = true;
  const pending = write();
  await w.sim.runUntil(() => n1.strong.forwardCounts.served === 1);
  await w.sim.runUntil(w.sim.now() + 1);
  w.sim.crash("n1");
  return w.sim.settle(pending);
}

test("the first primary dying after the forward reached it answers indeterminate (504), and the write may have happened", async () => {
  const w = await world(4);
  const n2 = nodeOf(w, "n2");
  const result = await firstPrimaryDiesMidForward(w, () => n2.strong.write(keyOf("k"), 3, put("maybe")));
  assert.ok(!result.ok && result.error === "indeterminate", JSON.stringify(result));
  assert.match(result.message, /forwarded to n1/);
  assert.equal(n2.strong.forwardCounts.lost, 1);
});

test("a forward refused before it was sent (overloaded) is proposed where it arrived", async () => {
  const w = await world(5);
  w.overloadForwards.add("n2");
  const n2 = nodeOf(w, "n2");
  const result = await w.sim.settle(n2.strong.write(keyOf("k"), 3, put("here")));
  assert.ok(result.ok, JSON.stringify(result));
  assert.deepEqual([n2.strong.forwardCounts.forwarded, n2.strong.forwardCounts.proposedHere, nodeOf(w, "n1").strong.forwardCounts.served], [1, 1, 0]);
  assert.equal(n2.strong.roundCounts.twoTrips, 1);
  assert.equal(await readText(w, "n3", "k"), "here");
});

test("a forwarded write still queued at its start deadline is not proposed and answers unavailable (503) back", async () => {
  // n3 is down but believed up by nobody's membership: n1's rounds wait on n2, whose accepts never answer.
  const w = await world(6, { attemptsMax: 2 });
  const [n1, n2] = [nodeOf(w, "n1"), nodeOf(w, "n2")];
  w.sim.crash("n3");
  n2.acceptors.holdAcceptReplies = true;
  const slow = n1.strong.change(keyOf("k"), 3, () => ({ type: "set", value: valueOf("slow") }));
  await w.sim.runUntil(w.sim.now() + 1);
  const forwarded = n2.strong.write(keyOf("k"), 3, put("late"));
  const [slowResult, result] = await w.sim.settle(Promise.all([slow, forwarded]));
  assert.ok(!slowResult.ok && slowResult.error === "indeterminate", JSON.stringify(slowResult));
  assert.ok(!result.ok && result.error === "unavailable", JSON.stringify(result));
  assert.match(result.message, /start deadline/);
  assert.equal(n1.strong.forwardCounts.expired, 1);
});

test("a malformed forward is refused as unavailable and changes nothing", async () => {
  const w = await world(7);
  const n1 = nodeOf(w, "n1");
  const bad = { ...forwardMessage(keyOf("k"), 3, put("x"), 10, { boot: 1, seq: 1 }, undefined), n: 0 };
  const reply = (await n1.strong.handle("n2", bad)) as { ok: boolean; error?: string; message?: string };
  assert.deepEqual([reply.ok, reply.error], [false, "unavailable"]);
  assert.match(reply.message ?? "", /n 0 is not a positive integer/);
  const noValue = { ...forwardMessage(keyOf("k"), 3, put("x"), 10, { boot: 1, seq: 2 }, undefined), write: { type: "set" } };
  assert.match(((await n1.strong.handle("n2", noValue)) as { message: string }).message, /write is malformed/);
  assert.equal(await readText(w, "n2", "k"), undefined);
});

/** The receiver's incarnation, as its answer to a forward meant for no incarnation says (that forward is not proposed). */
async function bootOf(w: World, id: NodeId): Promise<number> {
  const reply = (await nodeOf(w, id).strong.handle("n3", forwardMessage(keyOf("boot-probe"), 3, put("never"), 10, { boot: 99, seq: 1 }, undefined))) as { error?: string; boot?: number };
  assert.equal(reply.error, "boot");
  return reply.boot!;
}

test("a forward delivered twice is proposed once: the repeat cannot overwrite what came between", async () => {
  const w = await world(8);
  const n1 = nodeOf(w, "n1");
  const message = forwardMessage(keyOf("k"), 3, put("first"), requestTimeoutMs, { boot: 7, seq: 1 }, await bootOf(w, "n1"));
  const first = (await w.sim.settle(n1.strong.handle("n2", message) as Promise<unknown>)) as { ok: boolean };
  assert.equal(first.ok, true, JSON.stringify(first));
  assert.ok((await w.sim.settle(n1.strong.write(keyOf("k"), 3, put("between")))).ok);
  const repeat = (await w.sim.settle(n1.strong.handle("n2", message) as Promise<unknown>)) as { ok: boolean; error?: string };
  assert.deepEqual([repeat.ok, repeat.error], [false, "duplicate"]);
  assert.equal(await readText(w, "n3", "k"), "between");
  assert.equal(n1.strong.forwardCounts.duplicates, 1);
  // The same sequence number from another incarnation of the sender is another forward.
  const other = (await w.sim.settle(n1.strong.handle("n2", { ...message, origin: { boot: 8, seq: 1 } }) as Promise<unknown>)) as { ok: boolean };
  assert.equal(other.ok, true);
  assert.equal(await readText(w, "n3", "k"), "first");
});

test("a forward meant for an incarnation of the primary before its restart is not proposed; the sender learns the new one and proposes there", async () => {
  const w = await world(9);
  assert.ok((await w.sim.settle(nodeOf(w, "n2").strong.write(keyOf("k"), 3, put("one")))).ok);
  const before = await bootOf(w, "n1");
  w.sim.crash("n1");
  await w.sim.restart("n1");
  const stale = (await w.sim.settle(nodeOf(w, "n1").strong.handle("n2", forwardMessage(keyOf("k"), 3, put("stale"), requestTimeoutMs, { boot: 5, seq: 1 }, before)) as Promise<unknown>)) as { error?: string };
  assert.equal(stale.error, "boot", "a forward sent to the old incarnation is not proposed by the new one");
  const n2 = nodeOf(w, "n2");
  const again = await w.sim.settle(n2.strong.write(keyOf("k"), 3, put("two")));
  assert.ok(again.ok, JSON.stringify(again));
  assert.equal(nodeOf(w, "n1").strong.forwardCounts.otherBoot, 2, "the stale forward and n2's first try after the restart");
  assert.equal(await readText(w, "n3", "k"), "two");
});

test("a primary of the version before forwarding (which refuses the message as malformed) gets no forward: the write is proposed where it arrived", async () => {
  const w = await world(10);
  w.oldVersion.add("n1");
  const n2 = nodeOf(w, "n2");
  const result = await w.sim.settle(n2.strong.write(keyOf("k"), 3, put("rolling")));
  assert.ok(result.ok, JSON.stringify(result));
  assert.deepEqual([n2.strong.forwardCounts.proposedHere, n2.strong.forwardCounts.lost], [1, 0]);
  assert.equal(await readText(w, "n1", "k"), "rolling");
});

// Named changes (README, "Forwarding read-modify-writes"): an increment as data, built on every node.
const counterKinds: ChangeKinds = (kind, args) => {
  const a = args as { by?: unknown; max?: unknown } | null;
  if (kind !== "add" || typeof a?.by !== "number") return `unknown change ${kind}`;
  const by = a.by;
  const max = typeof a.max === "number" ? a.max : Infinity;
  let refusal: { code: string; message: string } | undefined;
  return {
    decide: (current) => {
      refusal = undefined;
      const next = (current === undefined ? 0 : Number(decoder.decode(current.value))) + by;
      if (next > max) {
        refusal = { code: "BadRequest", message: `${next} is above ${max}` };
        return { type: "keep" };
      }
      return { type: "set", value: valueOf(String(next)) };
    },
    refusal: () => refusal,
  };
};
const add = (by: number, max?: number): StrongWrite => ({ type: "change", kind: "add", args: max === undefined ? { by } : { by, max } });

test("a read-modify-write named as data is proposed at the first primary, with one round trip for the next, and its refusal comes back", async () => {
  const w = await world(11, { changeKinds: counterKinds });
  const [n1, n2, n3] = [nodeOf(w, "n1"), nodeOf(w, "n2"), nodeOf(w, "n3")];
  for (const [node, by] of [[n2, 2], [n3, 3], [n2, 4]] as const) assert.ok((await w.sim.settle(node.strong.write(keyOf("c"), 3, add(by)))).ok);
  assert.deepEqual([n2.strong.forwardCounts.forwarded, n3.strong.forwardCounts.forwarded, n1.strong.forwardCounts.served], [2, 1, 3]);
  assert.deepEqual([n2.strong.roundCounts, n3.strong.roundCounts], [{ oneTrip: 0, twoTrips: 0 }, { oneTrip: 0, twoTrips: 0 }], "no round where they arrived");
  assert.deepEqual(n1.strong.roundCounts, { oneTrip: 2, twoTrips: 1 }, "the first primary's held promise served the later increments");
  assert.equal(await readText(w, "n3", "c"), "9");
  const refused = await w.sim.settle(n3.strong.write(keyOf("c"), 3, add(5, 10)));
  assert.ok(refused.ok, JSON.stringify(refused));
  assert.deepEqual(refused.value.refusal, { code: "BadRequest", message: "14 is above 10" }, "the deciding node's refusal travels back");
  assert.equal(decoder.decode(refused.value.after!.value), "9", "a refusal keeps the value");
  assert.equal(await readText(w, "n1", "c"), "9");
});

test("a named change whose first primary dies mid-forward answers indeterminate (504)", async () => {
  const w = await world(12, { changeKinds: counterKinds });
  const n2 = nodeOf(w, "n2");
  const result = await firstPrimaryDiesMidForward(w, () => n2.strong.write(keyOf("c"), 3, add(1)));
  assert.ok(!result.ok && result.error === "indeterminate", JSON.stringify(result));
  assert.match(result.message, /forwarded to n1/);
  assert.deepEqual([n2.strong.forwardCounts.lost, n2.strong.roundCounts.twoTrips + n2.strong.roundCounts.oneTrip], [1, 0], "not proposed again where it arrived");
});

test("an increment forward delivered twice adds once", async () => {
  const w = await world(13, { changeKinds: counterKinds });
  const n1 = nodeOf(w, "n1");
  const message = forwardMessage(keyOf("c"), 3, add(5), requestTimeoutMs, { boot: 3, seq: 1 }, await bootOf(w, "n1"));
  const first = (await w.sim.settle(n1.strong.handle("n2", message) as Promise<unknown>)) as { ok: boolean };
  assert.equal(first.ok, true, JSON.stringify(first));
  const repeat = (await w.sim.settle(n1.strong.handle("n2", message) as Promise<unknown>)) as { ok: boolean; error?: string };
  assert.deepEqual([repeat.ok, repeat.error], [false, "duplicate"]);
  assert.equal(await readText(w, "n3", "c"), "5", "the repeat did not add again");
});

test("a named change the first primary cannot build is not proposed there but where it arrived", async () => {
  const w = await world(14, { changeKinds: counterKinds });
  const [n1, n2] = [nodeOf(w, "n1"), nodeOf(w, "n2")];
  const unknown = (await n1.strong.handle("n2", forwardMessage(keyOf("c"), 3, { type: "change", kind: "nope", args: null }, 10, { boot: 1, seq: 1 }, undefined))) as { error?: string };
  assert.equal(unknown.error, "unknown-change");
  // n2 builds the change itself (the caller's own builder), n1 does not know the kind.
  const local = counterKinds("add", { by: 7 });
  assert.ok(typeof local !== "string");
  const result = await w.sim.settle(n2.strong.write(keyOf("c"), 3, { type: "change", kind: "add-v2", args: { by: 7 } }, local));
  assert.ok(result.ok, JSON.stringify(result));
  assert.deepEqual([n2.strong.forwardCounts.proposedHere, n1.strong.forwardCounts.unknownChange, n1.strong.forwardCounts.served], [1, 2, 0]);
  assert.equal(await readText(w, "n3", "c"), "7");
});

test("a named change with a malformed kind is refused as unavailable, and a reply with a malformed refusal is no answer", async () => {
  const w = await world(15, { changeKinds: counterKinds });
  const n1 = nodeOf(w, "n1");
  const long = forwardMessage(keyOf("c"), 3, { type: "change", kind: "k".repeat(65), args: { by: 1 } }, 10, { boot: 1, seq: 1 }, undefined);
  assert.match(((await n1.strong.handle("n2", long)) as { message: string }).message, /write is malformed/);
  const noArgs = { ...forwardMessage(keyOf("c"), 3, add(1), 10, { boot: 1, seq: 2 }, undefined), write: { type: "change", kind: "add" } };
  assert.match(((await n1.strong.handle("n2", noArgs)) as { message: string }).message, /write is malformed/);
  assert.equal(parseForwardReply({ ok: true, before: null, after: null, refusal: { code: 7 } }), undefined);
  assert.deepEqual(parseForwardReply({ ok: true, before: null, after: null, refusal: { code: "BadRequest", message: "m" } }), {
    kind: "result",
    result: { ok: true, value: { before: undefined, after: undefined, refusal: { code: "BadRequest", message: "m" } } },
  });
  assert.equal(await readText(w, "n2", "c"), undefined);
});

test("a write places its key once where it is proposed, and once more only where it is forwarded from", async () => {
  // CPU per put (docs/benchmarks.md, session 9): the forward check, the round's start and the
  // proposer's first round used to compute the placement three times on the proposing node.
  const ids = ["n1", "n2", "n3"];
  let calls = 0;
  const w = await world(11, {
    placement: {
      acceptorsFor: (_key, n) => {
        calls++;
        return { acceptors: ids.slice(0, n) };
      },
    },
  });
  const placements = async (via: NodeId, text: string): Promise<number> => {
    calls = 0;
    assert.ok((await w.sim.settle(nodeOf(w, via).strong.write(keyOf("k"), 3, put(text)))).ok);
    return calls;
  };
  assert.equal(await placements("n1", "one"), 1, "at the first primary, two round trips (a prepare): one placement");
  assert.equal(await placements("n1", "two"), 1, "at the first primary, one round trip (the held promise): one placement");
  assert.equal(await placements("n2", "three"), 2, "forwarded: one placement at the sender, one at the first primary");
  assert.equal(await readText(w, "n3", "k"), "three");
});
