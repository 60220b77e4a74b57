import { test } from "node:test";
import assert from "node:assert/strict";
import { Scheduler } from "./scheduler.js";
import { SimClock } from "./sim-clock.js";

test("sim clock follows virtual time from its epoch and offset", async () => {
  const s = new Scheduler();
  const clock = new SimClock(s, { epochMs: 1000, offsetMs: 5 });
  assert.equal(clock.nowMs(), 1005);
  await s.runUntil(250);
  assert.equal(clock.nowMs(), 1255);
});

test("sim clock drifts by its ppm rate and a drift change does not jump the reading", async () => {
  const s = new Scheduler();
  const clock = new SimClock(s, { epochMs: 0, driftPpm: 1000 }); // 0.1% fast
  await s.runUntil(10_000);
  assert.equal(clock.nowMs(), 10_010);
  clock.setDriftPpm(-1000);
  assert.equal(clock.nowMs(), 10_010);
  await s.runUntil(20_000);
  assert.equal(clock.nowMs(), 20_000);
  await s.runUntil(20_000.5);
  assert.equal(clock.nowMs(), 20_000, "whole milliseconds, like Date.now()");
});

test("sim clock jumps forwards and backwards", async () => {
  const s = new Scheduler();
  const clock = new SimClock(s, { epochMs: 0 });
  await s.runUntil(100);
  clock.jump(-60);
  assert.equal(clock.nowMs(), 40);
  clock.jump(30_000);
  await s.runUntil(110);
  assert.equal(clock.nowMs(), 30_050);
});

test("sim clock refuses an absurd drift", () => {
  assert.throws(() => new SimClock(new Scheduler(), { driftPpm: 1e7 }), /beyond/);
});
