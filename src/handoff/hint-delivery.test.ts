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
