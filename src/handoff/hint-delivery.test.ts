import assert from "node:assert/strict";
import { test } from "node:test";
import { SeededRandom } from "../runtime/seeded-random.js";
import { Scheduler } from "../sim/scheduler.js";
import { SimTimers } from "../sim/sim-timers.js";
import { MemoryStorageEngine } from "../storage/memory-storage-engine.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import { HintDelivery, type HintDeliveryOptions, type HintDeliveryResult } from "./hint-delivery.js";
import { HintStore, type ListedHint } from "./hint-store.js";

const isString = (value: unknown): value is string => typeof value === "string";
const written = (value: string, nodeId = "c") => dvvset.update(dvvset.newValue(value), dvvset.empty<string>(), nodeId);

interface Delivery {
  atMs: number;
  target: string;
  keys: string[];
}

/** A fallback holding hints, its delivery loop on virtual time, and a log of what it sent. */
async function setUp(hintsPerTarget: Record<string, number>, options: Partial<HintDeliveryOptions<string>> = {}, seed = 1) {
  const scheduler = new Scheduler();
  const timers = new SimTimers(scheduler, { nodeId: "fallback" });
  const store = HintStore.open({ storage: new MemoryStorageEngine(), isValue: isString, hintsPerTargetMax: 10_000 });
  for (const [target, count] of Object.entries(hintsPerTarget)) {
    for (let i = 0; i < count; i++) await store.add({ target, tableId: 1, key: new TextEncoder().encode(`k${String(i).padStart(5, "0")}`), set: written(`v${i}`) });
  }
  const up = new Set(Object.keys(hintsPerTarget));
  const log: Delivery[] = [];
  let answer: (target: string, hints: readonly ListedHint<string>[]) => Promise<HintDeliveryResult> = () => Promise.resolve({ ok: true });
  const delivery = new HintDelivery<string>({
    store,
    timers,
    random: new SeededRandom(seed),
    isUp: (node) => up.has(node),
    deliver: (target, hints) => {
      log.push({ atMs: scheduler.now(), target, keys: hints.map((h) => new TextDecoder().decode(h.key)) });
      return answer(target, hints);
    },
    ...options,
  });
  const setAnswer = (fn: typeof answer) => (answer = fn);
  return { scheduler, timers, store, up, log, delivery, setAnswer };
}

test("HintDelivery hands every hint back to an up target in bounded batches and removes them", async () => {
  const { scheduler, store, log, delivery } = await setUp({ b: 250 }, { batchHintsMax: 40 });
  delivery.start();
  const run = await scheduler.runUntil(() => store.count("b") === 0, { deadlineMs: 60_000 });
  assert.equal(run.reason, "predicate");
  assert.ok(log.every((batch) => batch.target === "b" && batch.keys.length <= 40 && batch.keys.length > 0));
  assert.equal(new Set(log.flatMap((batch) => batch.keys)).size, 250);
  assert.equal(delivery.stats().delivered, 250);
  await delivery.stop();
});

test("HintDelivery bounds a batch by stored bytes", async () => {
  const { scheduler, store, log, delivery } = await setUp({ b: 20 }, { batchBytesMax: 100 });
  const oneHintBytes = store.listForTarget("b", { limit: 1 }).hints[0]!.bytes;
  delivery.start();
  await scheduler.runUntil(() => store.count("b") === 0, { deadlineMs: 60_000 });
  assert.ok(log.every((batch) => batch.keys.length <= Math.max(1, Math.floor(100 / oneHintBytes))));
  assert.ok(log.length > 1);
  await delivery.stop();
});

test("HintDelivery waits while the target is down and delivers once it is up", async () => {
  const { scheduler, store, up, log, delivery } = await setUp({ b: 5 });
  up.delete("b");
  delivery.start();
  await scheduler.runUntil(10_000);
  assert.equal(log.length, 0);
  assert.equal(store.count("b"), 5);
  up.add("b");
  const run = await scheduler.runUntil(() => store.count("b") === 0, { deadlineMs: 20_000 });
  assert.equal(run.reason, "predicate");
  assert.ok(log[0]!.atMs >= 10_000);
  await delivery.stop();
});

test("HintDelivery backs a failing target off exponentially with jitter, capped, and resets on success", async () => {
  const { scheduler, store, log, delivery, setAnswer } = await setUp({ b: 3 }, { backoffBaseMs: 1000, backoffMaxMs: 8000, intervalMs: 50 });
  setAnswer(() => Promise.resolve({ ok: false }));
  delivery.start();
  await scheduler.runUntil(60_000);
  const gaps = log.slice(1).map((batch, i) => batch.atMs - log[i]!.atMs);
  const ceilings = [1000, 2000, 4000, 8000, 8000, 8000];
  ceilings.forEach((ceilingMs, i) => {
    // Jitter takes half to all of the ceiling; the tick adds at most one interval.
    assert.ok(gaps[i]! >= ceilingMs / 2 && gaps[i]! <= ceilingMs + 50, `gap ${i} is ${gaps[i]} ms, expected within [${ceilingMs / 2}, ${ceilingMs + 50}]`);
  });
  assert.ok(new Set(gaps.slice(3)).size > 1, "jitter spreads the capped retries");
  assert.equal(store.count("b"), 3);
  setAnswer(() => Promise.resolve({ ok: true }));
  const run = await scheduler.runUntil(() => store.count("b") === 0, { deadlineMs: 80_000 });
  assert.equal(run.reason, "predicate");
  assert.equal(delivery.stats().failedBatches, log.length - 1);
  await delivery.stop();
});

test("HintDelivery resends a failed batch before moving on to the next", async () => {
  const { scheduler, store, log, delivery, setAnswer } = await setUp({ b: 3 }, { batchHintsMax: 1, backoffBaseMs: 100 });
  setAnswer(() => Promise.resolve(log.length <= 2 ? { ok: false } : { ok: true }));
  delivery.start();
  await scheduler.runUntil(() => store.count("b") === 0, { deadlineMs: 10_000 });
  assert.deepEqual(
    log.map((batch) => batch.keys.join()),
    ["k00000", "k00000", "k00000", "k00001", "k00002"],
  );
  await delivery.stop();
});

test("HintDelivery counts a rejected or never-answered delivery as a failure", async () => {
  const { scheduler, store, log, delivery, setAnswer } = await setUp({ b: 1 }, { deliverTimeoutMs: 500, backoffBaseMs: 100, backoffMaxMs: 100 });
  let calls = 0;
  setAnswer(() => {
    calls++;
    if (calls === 1) return Promise.reject(new Error("connection reset"));
    if (calls === 2) return new Promise<HintDeliveryResult>(() => undefined);
    return Promise.resolve({ ok: true });
  });
  delivery.start();
  const run = await scheduler.runUntil(() => store.count("b") === 0, { deadlineMs: 10_000 });
  assert.equal(run.reason, "predicate");
  assert.equal(log.length, 3);
  assert.equal(delivery.stats().failedBatches, 2);
  assert.ok(log[2]!.atMs - log[1]!.atMs >= 500, "the unanswered batch waited for its deadline");
  await delivery.stop();
});

test("HintDelivery keeps to hintsPerSecondMax", async () => {
  const { scheduler, store, log, delivery } = await setUp({ b: 300, c: 300 }, { hintsPerSecondMax: 100, batchHintsMax: 25 });
  delivery.start();
  for (let second = 1; second <= 5; second++) {
    await scheduler.runUntil(second * 1000);
    const sent = log.reduce((sum, batch) => sum + batch.keys.length, 0);
    assert.ok(sent <= 100 * second, `${sent} hints sent by ${second} s`);
    assert.ok(sent >= 100 * (second - 1), `only ${sent} hints sent by ${second} s`);
  }
  await scheduler.runUntil(() => store.count("b") + store.count("c") === 0, { deadlineMs: 20_000 });
  assert.ok(new Set(log.slice(0, 4).map((batch) => batch.target)).size === 2, "both targets are served from the start");
  await delivery.stop();
});

test("HintDelivery sends a hint again when it changed while its batch was in flight", async () => {
  const { scheduler, store, log, delivery, setAnswer } = await setUp({ b: 1 });
  setAnswer(async (_target, hints) => {
    if (log.length === 1) await store.add({ target: "b", tableId: 1, key: hints[0]!.key, set: written("newer", "d") });
    return { ok: true };
  });
  delivery.start();
  await scheduler.runUntil(() => store.count("b") === 0, { deadlineMs: 10_000 });
  assert.equal(log.length, 2);
  assert.deepEqual(log[0]!.keys, log[1]!.keys);
  await delivery.stop();
});

test("HintDelivery stops sending and holds no timer after stop", async () => {
  const { scheduler, timers, log, delivery, setAnswer } = await setUp({ b: 10 }, { batchHintsMax: 1, backoffBaseMs: 50 });
  setAnswer(() => Promise.resolve({ ok: false }));
  delivery.start();
  await scheduler.runUntil(1000);
  const sent = log.length;
  assert.ok(sent > 0);
  await delivery.stop();
  assert.equal(timers.size, 0);
  await scheduler.runUntil(10_000);
  assert.equal(log.length, sent);
});

test("HintDelivery with the same seed retries at the same virtual times", async () => {
  const times = async (seed: number): Promise<number[]> => {
    const { scheduler, log, delivery, setAnswer } = await setUp({ b: 2, c: 2 }, { backoffBaseMs: 300 }, seed);
    setAnswer(() => Promise.resolve({ ok: false }));
    delivery.start();
    await scheduler.runUntil(30_000);
    await delivery.stop();
    return log.map((batch) => batch.atMs);
  };
  assert.deepEqual(await times(7), await times(7));
  assert.notDeepEqual(await times(7), await times(8));
});

// Re-targeting and draining (hints never stranded by a leave or replace).

interface Sent {
  atMs: number;
  node: string;
  hintFor: string | undefined;
  keys: string[];
}

/**
 * A fallback "self" holding hints for `hintsPerTarget`, with a ring whose members are
 * `members` (a target not among them has departed): even keys live on [p1, p2, p3], odd keys on
 * [p2, p3, p4], the remaining members following in that order.
 */
async function setUpPlaced(
  hintsPerTarget: Record<string, number>,
  options: { members?: string[]; up?: string[]; placeable?: (key: string) => boolean; primaries?: (i: number) => string[]; hintsPerTargetMax?: number } & Partial<HintDeliveryOptions<string>> = {},
) {
  const {
    members = ["self", "p1", "p2", "p3", "p4", "s1"],
    up: upNodes,
    placeable = () => true,
    primaries: primariesOf = (i) => (i % 2 === 0 ? ["p1", "p2", "p3"] : ["p2", "p3", "p4"]),
    hintsPerTargetMax = 10_000,
    ...deliveryOptions
  } = options;
  const scheduler = new Scheduler();
  const timers = new SimTimers(scheduler, { nodeId: "self" });
  const store = HintStore.open({ storage: new MemoryStorageEngine(), isValue: isString, hintsPerTargetMax });
  for (const [target, count] of Object.entries(hintsPerTarget)) {
    for (let i = 0; i < count; i++) await store.add({ target, tableId: 1, key: new TextEncoder().encode(`k${String(i).padStart(5, "0")}`), set: written(`v${i}`) });
  }
  const up = new Set(upNodes ?? members);
  const sent: Sent[] = [];
  let answer: (node: string, hintFor: string | undefined) => Promise<HintDeliveryResult> = () => Promise.resolve({ ok: true });
  const delivery = new HintDelivery<string>({
    store,
    timers,
    random: new SeededRandom(1),
    isUp: (node) => up.has(node),
    deliver: (node, hints, to) => {
      sent.push({ atMs: scheduler.now(), node, hintFor: to?.hintFor, keys: hints.map((h) => new TextDecoder().decode(h.key)) });
      return answer(node, to?.hintFor);
    },
    placement: {
      self: "self",
      departed: (target) => !members.includes(target),
      place: (hint) => {
        const key = new TextDecoder().decode(hint.key);
        if (!placeable(key)) return undefined;
        const primaries = primariesOf(Number(key.slice(1)));
        return { primaries, others: members.filter((m) => !primaries.includes(m)) };
      },
    },
    ...deliveryOptions,
  });
  const received = (node: string, hintFor?: string): string[] =>
    [...new Set(sent.filter((s) => s.node === node && s.hintFor === hintFor).flatMap((s) => s.keys))].sort();
  return { scheduler, store, up, sent, delivery, received, setAnswer: (fn: typeof answer) => (answer = fn) };
}

const keysWhere = (count: number, even: boolean | undefined) =>
  Array.from({ length: count }, (_, i) => i)
    .filter((i) => even === undefined || (i % 2 === 0) === even)
    .map((i) => `k${String(i).padStart(5, "0")}`);

test("HintDelivery hands hints for a departed target to every current primary of each key, then removes them", async () => {
  const { scheduler, store, sent, delivery, received } = await setUpPlaced({ gone: 30 }, { batchHintsMax: 7 });
  delivery.start();
  const run = await scheduler.runUntil(() => store.count("gone") === 0, { deadlineMs: 10_000 });
  assert.equal(run.reason, "predicate");
  assert.ok(!sent.some((s) => s.node === "gone"), "nothing goes to the departed node");
  assert.ok(sent.every((s) => s.hintFor === undefined), "primaries get the sets as their own data");
  assert.deepEqual(received("p1"), keysWhere(30, true));
  assert.deepEqual(received("p4"), keysWhere(30, false));
  assert.deepEqual(received("p2"), keysWhere(30, undefined));
  assert.deepEqual(received("p3"), keysWhere(30, undefined));
  const { delivered, retargeted, abandoned, failedBatches } = delivery.stats();
  assert.deepEqual({ delivered, retargeted, abandoned, failedBatches }, { delivered: 30, retargeted: 30, abandoned: 0, failedBatches: 0 });
  assert.equal(store.countByTarget().size, 0);
  await delivery.stop();
});

test("HintDelivery merges a re-targeted hint locally when this node is now a primary of its key", async () => {
  const { scheduler, store, delivery, received } = await setUpPlaced({ gone: 4 }, { primaries: () => ["p1", "self", "p2"] });
  delivery.start();
  await scheduler.runUntil(() => store.count("gone") === 0, { deadlineMs: 10_000 });
  assert.deepEqual(received("self"), keysWhere(4, undefined), "delivered to self (the shell merges it into its own replica)");
  assert.deepEqual(received("p1"), keysWhere(4, undefined));
  assert.equal(store.countByTarget().size, 0, "self is never re-keyed to, even if membership does not list it up");
  await delivery.stop();
});

test("HintDelivery re-keys a departed target's hint to a primary that is down, and hands it over once that primary is up", async () => {
  const { scheduler, store, up, delivery, received } = await setUpPlaced({ gone: 10 }, { up: ["self", "p1", "p2", "p4", "s1"] });
  delivery.start();
  await scheduler.runUntil(() => store.count("gone") === 0, { deadlineMs: 10_000 });
  assert.equal(store.count("p3"), 10, "every key's copy for the down primary p3 is kept here, under p3");
  assert.deepEqual(received("p3"), []);
  assert.deepEqual(received("p2"), keysWhere(10, undefined));
  assert.equal(store.get({ target: "p3", tableId: 1, key: new TextEncoder().encode("k00003") })?.entries.length, 1);
  up.add("p3");
  const run = await scheduler.runUntil(() => store.countByTarget().size === 0, { deadlineMs: 20_000 });
  assert.equal(run.reason, "predicate");
  assert.deepEqual(received("p3"), keysWhere(10, undefined));
  await delivery.stop();
});

test("HintDelivery keeps a departed target's hints when re-keying to a down primary is refused (hints-full), and moves them once that primary is up", async () => {
  const { scheduler, store, up, delivery, received } = await setUpPlaced({ gone: 3 }, { up: ["self", "p1", "p2", "p4", "s1"], hintsPerTargetMax: 3, backoffBaseMs: 100, backoffMaxMs: 200 });
  for (const key of ["x0", "x1", "x2"]) assert.ok((await store.add({ target: "p3", tableId: 1, key: new TextEncoder().encode(key), set: written(key) })).ok);
  delivery.start();
  await scheduler.runUntil(() => delivery.stats().failedBatches >= 2, { deadlineMs: 10_000 });
  assert.equal(store.count("gone"), 3, "nothing is removed while a copy for p3 cannot be kept");
  assert.equal(store.count("p3"), 3, "p3's bound holds");
  up.add("p3");
  const run = await scheduler.runUntil(() => store.countByTarget().size === 0, { deadlineMs: 30_000 });
  assert.equal(run.reason, "predicate");
  assert.deepEqual(received("p3"), [...keysWhere(3, undefined), "x0", "x1", "x2"]);
  await delivery.stop();
});

test("HintDelivery keeps a departed target's hints while their keys cannot be placed, and those it could place go", async () => {
  const { scheduler, store, sent, delivery } = await setUpPlaced({ gone: 6 }, { placeable: (key) => key !== "k00002" });
  delivery.start();
  await scheduler.runUntil(5_000);
  assert.equal(store.count("gone"), 1);
  assert.ok(store.get({ target: "gone", tableId: 1, key: new TextEncoder().encode("k00002") }) !== undefined);
  assert.ok(!sent.some((s) => s.keys.includes("k00002")));
  await delivery.stop();
});

test("HintDelivery removes nothing when one primary refuses a re-targeted batch, backs off, and retries", async () => {
  const { scheduler, store, sent, delivery, setAnswer } = await setUpPlaced({ gone: 4 }, { backoffBaseMs: 100, backoffMaxMs: 100 });
  let refusals = 2;
  setAnswer((node) => Promise.resolve(node === "p3" && refusals-- > 0 ? { ok: false } : { ok: true }));
  delivery.start();
  await scheduler.runUntil(() => delivery.stats().failedBatches === 1, { deadlineMs: 5_000 });
  assert.equal(store.count("gone"), 4, "a batch one primary refused is kept whole");
  const run = await scheduler.runUntil(() => store.count("gone") === 0, { deadlineMs: 10_000 });
  assert.equal(run.reason, "predicate");
  assert.equal(delivery.stats().failedBatches, 2);
  assert.ok(sent.filter((s) => s.node === "p3").length >= 3);
  await delivery.stop();
});

test("HintDelivery without a placement leaves a departed target's hints alone (re-targeting is opt-in)", async () => {
  const { scheduler, store, up, log, delivery } = await setUp({ gone: 3 });
  up.delete("gone");
  delivery.start();
  await scheduler.runUntil(5_000);
  assert.equal(log.length, 0);
  assert.equal(store.count("gone"), 3);
  await delivery.stop();
});

test("HintDelivery.drain hands hints for a down member to a stand-in as hints for it, and resolves once empty", async () => {
  // Every key lives on [p1, p2, p4], so both down targets are still primaries of their hints' keys.
  const { scheduler, store, delivery, received } = await setUpPlaced({ p1: 6, p4: 2 }, { up: ["self", "p2", "p3", "s1"], primaries: () => ["p1", "p2", "p4"] });
  delivery.start();
  await scheduler.runUntil(2_000);
  assert.equal(store.count("p1"), 6, "not draining: hints for a down member wait for it");
  let result: Awaited<ReturnType<typeof delivery.drain>> | undefined;
  void delivery.drain(30_000).then((r) => (result = r));
  const run = await scheduler.runUntil(() => result !== undefined, { deadlineMs: 60_000 });
  assert.equal(run.reason, "predicate");
  assert.deepEqual(result, { drained: true, abandoned: new Map() });
  // The stand-in is the key's first up node after its primaries (here p3; self is excluded).
  assert.deepEqual(received("p3", "p1"), keysWhere(6, undefined));
  assert.deepEqual(received("p3", "p4"), keysWhere(2, undefined));
  assert.equal(store.countByTarget().size, 0);
  assert.equal(delivery.stats().draining, true);
  await delivery.stop();
});

test("HintDelivery.drain gives up at its deadline when no node can take the hints, and counts what it abandoned", async () => {
  const { scheduler, store, sent, delivery } = await setUpPlaced({ p1: 3, gone: 2 }, { up: ["self"] });
  delivery.start();
  let result: Awaited<ReturnType<typeof delivery.drain>> | undefined;
  void delivery.drain(5_000).then((r) => (result = r));
  await scheduler.runUntil(() => result !== undefined, { deadlineMs: 60_000 });
  assert.ok(scheduler.now() >= 5_000 && scheduler.now() <= 5_200, `the drain ended at ${scheduler.now()} ms`);
  assert.equal(result?.drained, false);
  assert.deepEqual([...result!.abandoned].sort(), [["gone", 2], ["p1", 3]]);
  assert.equal(delivery.stats().abandoned, 5);
  assert.equal(sent.length, 0);
  assert.equal(store.count("p1"), 3, "abandoned hints stay on disk (a later incarnation may still hand them on)");
  await delivery.stop();
});

test("HintDelivery.drain re-targets a departed target's hints to the up primaries and a stand-in for a down one, not to itself", async () => {
  // The leaver ("self") is not a member of the settled ring any more.
  const { scheduler, delivery, received, store } = await setUpPlaced({ gone: 4 }, { members: ["p1", "p2", "p3", "p4", "s1"], up: ["self", "p1", "p2", "p4", "s1"] });
  delivery.start();
  let drained: boolean | undefined;
  void delivery.drain(30_000).then((r) => (drained = r.drained));
  await scheduler.runUntil(() => drained !== undefined, { deadlineMs: 30_000 });
  assert.equal(drained, true);
  assert.equal(store.countByTarget().size, 0);
  assert.deepEqual(received("p2"), keysWhere(4, undefined));
  // p3's copy goes to the key's first up fallback as a hint for p3, not re-keyed on the node that leaves.
  assert.deepEqual(received("p4", "p3"), keysWhere(4, true));
  assert.deepEqual(received("p1", "p3"), keysWhere(4, false));
  assert.deepEqual(received("self"), []);
  await delivery.stop();
});

test("HintDelivery hands a hint whose key moved away from its (still member) target to the key's current primaries, the rest to the target", async () => {
  // Even keys still live on p1; odd keys moved to [p2, p3, p4] after the hints were written: p1,
  // which released them, would refuse them (replica/ring-fence.ts), and they would never leave.
  const { scheduler, store, sent, delivery, received } = await setUpPlaced({ p1: 10 });
  delivery.start();
  const run = await scheduler.runUntil(() => store.count("p1") === 0, { deadlineMs: 10_000 });
  assert.equal(run.reason, "predicate");
  assert.deepEqual(received("p1"), keysWhere(10, true), "p1 gets only the keys it is still a primary of");
  for (const node of ["p2", "p3", "p4"]) assert.deepEqual(received(node), keysWhere(10, false), `${node} gets the moved keys`);
  assert.ok(sent.every((s) => s.hintFor === undefined));
  assert.equal(delivery.stats().retargeted, 5);
  assert.equal(delivery.stats().delivered, 10);
});
