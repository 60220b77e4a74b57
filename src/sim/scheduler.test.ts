import { test } from "node:test";
import assert from "node:assert/strict";
import { Scheduler } from "./scheduler.js";
import { SeededRandom } from "../runtime/seeded-random.js";
import type { DrainMode } from "./microtask-drain.js";

test("scheduler runs events in time order and breaks ties in scheduling order", async () => {
  const s = new Scheduler();
  const seen: string[] = [];
  s.at(20, () => seen.push("b20"));
  s.at(10, () => seen.push("a10"));
  s.at(20, () => seen.push("c20"));
  s.after(5, () => {
    seen.push("d5");
    s.after(0, () => seen.push("e5"));
  });
  const result = await s.runUntil(100);
  assert.deepEqual(seen, ["d5", "e5", "a10", "b20", "c20"]);
  assert.deepEqual(result, { reason: "time", steps: 5, nowMs: 100 });
  assert.equal(s.now(), 100);
});

test("scheduler does not run a cancelled event and reports the cancel once", async () => {
  const s = new Scheduler();
  const seen: number[] = [];
  const handle = s.at(10, () => seen.push(10));
  s.at(11, () => seen.push(11));
  assert.equal(s.cancel(handle), true);
  assert.equal(s.cancel(handle), false);
  assert.equal(s.pending, 1);
  await s.runToIdle();
  assert.deepEqual(seen, [11]);
});

test("scheduler compacts many cancelled events and keeps the live ones in order", async () => {
  const s = new Scheduler({ eventsQueuedMax: 5000 });
  const seen: number[] = [];
  for (let i = 0; i < 4000; i++) {
    const h = s.at(i, () => seen.push(i));
    if (i % 100 !== 0) s.cancel(h);
  }
  for (let i = 0; i < 4000; i++) s.at(5000 + i, () => undefined); // fits only after compaction
  await s.runToIdle();
  assert.deepEqual(seen, Array.from({ length: 40 }, (_, i) => i * 100));
});

test("scheduler stops at a predicate, checked after each event's microtasks", async () => {
  const s = new Scheduler();
  let counter = 0;
  for (let t = 1; t <= 10; t++) {
    s.at(t, async () => {
      await Promise.resolve();
      await Promise.resolve();
      counter++;
    });
  }
  const result = await s.runUntil(() => counter === 3);
  assert.equal(result.reason, "predicate");
  assert.equal(result.nowMs, 3);
  assert.equal(counter, 3);
});

test("scheduler reports a predicate run that reaches its deadline or runs out of events", async () => {
  const s = new Scheduler();
  s.at(50, () => undefined);
  assert.deepEqual(await s.runUntil(() => false, { deadlineMs: 20 }), { reason: "deadline", steps: 0, nowMs: 20 });
  assert.deepEqual(await s.runUntil(() => false), { reason: "idle", steps: 1, nowMs: 50 });
});

test("scheduler throws a clear error when a run passes stepsMax", async () => {
  const s = new Scheduler();
  const tick = (): void => void s.after(1, tick, "busy loop");
  tick();
  await assert.rejects(s.runUntil(1_000_000, { stepsMax: 500 }), (error: Error) => {
    assert.match(error.message, /ran 500 events \(stepsMax 500\)/);
    assert.match(error.message, /next "busy loop"/);
    return true;
  });
});

test("scheduler refuses to queue more events than eventsQueuedMax", () => {
  const s = new Scheduler({ eventsQueuedMax: 10 });
  for (let i = 0; i < 10; i++) s.at(i, () => undefined);
  assert.throws(() => s.at(11, () => undefined, "one too many"), /cannot schedule "one too many": 10 events are queued, the limit is 10/);
});

test("scheduler refuses to schedule in the past", async () => {
  const s = new Scheduler();
  await s.runUntil(10);
  assert.throws(() => s.at(5, () => undefined), /already 10 ms/);
});

test("scheduler fails a run whose microtasks never settle", async () => {
  const s = new Scheduler({ drain: "promise-hooks", drainYieldsMax: 1000 });
  const spin = async (): Promise<void> => {
    for (let i = 0; i < 5000; i++) await Promise.resolve(); // longer than the drain allows
  };
  s.at(1, () => void spin());
  await assert.rejects(s.runUntil(10), /microtasks still pending after 1000 yields/);
});

/**
 * A workload of async/await chains of random depth that interleave through virtual time: each
 * actor awaits a virtual sleep, then a chain of promise hops, records what it saw, and
 * schedules its next step. Its record would differ if a continuation ran after the next event.
 */
async function asyncWorkload(seed: number, drain: DrainMode): Promise<{ hash: string; log: string[] }> {
  const s = new Scheduler({ drain });
  const random = new SeededRandom(seed);
  const log: string[] = [];
  const sleep = (ms: number): Promise<void> => new Promise((resolve) => s.after(ms, resolve, "sleep"));
  const hops = async (depth: number): Promise<number> => (depth === 0 ? 0 : 1 + (await hops(depth - 1)));
  const actor = async (name: string): Promise<void> => {
    for (let i = 0; i < 30; i++) {
      await sleep(random.int(5));
      const scheduledAt = s.now();
      const depth = await hops(random.int(40));
      log.push(`${name}:${i}:${depth}@${s.now()}`);
      assert.equal(s.now(), scheduledAt, "a continuation observed a later event's time");
    }
  };
  for (const name of ["a", "b", "c", "d"]) s.at(0, () => void actor(name), `start ${name}`);
  await s.runToIdle();
  s.trace.add(log.join(","));
  return { hash: s.trace.hex(), log };
}

test("two runs of one seed give the same trace, even with async/await chains", async () => {
  const first = await asyncWorkload(7, "auto");
  const second = await asyncWorkload(7, "auto");
  assert.equal(first.log.length, 120);
  assert.deepEqual(second.log, first.log);
  assert.equal(second.hash, first.hash);
  assert.notEqual((await asyncWorkload(8, "auto")).hash, first.hash);
});

test("every microtask drain mode orders events exactly alike", async () => {
  const hooks = await asyncWorkload(11, "promise-hooks");
  for (const mode of ["macrotask", "auto"] as const) {
    const other = await asyncWorkload(11, mode);
    assert.deepEqual(other.log, hooks.log, mode);
    assert.equal(other.hash, hooks.hash, mode);
  }
});
