import { test } from "node:test";
import assert from "node:assert/strict";
import { Scheduler } from "./scheduler.js";
import { SimTimers } from "./sim-timers.js";

test("sim timers fire at their virtual delay and not when cleared", async () => {
  const s = new Scheduler();
  const timers = new SimTimers(s, { nodeId: "n1" });
  const fired: Array<[string, number]> = [];
  timers.setTimeout(() => fired.push(["a", s.now()]), 30);
  const b = timers.setTimeout(() => fired.push(["b", s.now()]), 10);
  timers.setTimeout(() => fired.push(["c", s.now()]), 20);
  timers.clearTimeout(b);
  assert.equal(timers.size, 2);
  await s.runToIdle();
  assert.deepEqual(fired, [["c", 20], ["a", 30]]);
  assert.equal(timers.size, 0);
});

test("sim timers of a fast clock fire early in virtual time", async () => {
  const s = new Scheduler();
  const timers = new SimTimers(s, { nodeId: "n1", rate: () => 1.25 });
  let firedAt = -1;
  timers.setTimeout(() => (firedAt = s.now()), 100);
  await s.runToIdle();
  assert.equal(firedAt, 80);
});

test("closing sim timers drops pending ones and ignores new ones (a crashed process)", async () => {
  const s = new Scheduler();
  const timers = new SimTimers(s, { nodeId: "n1" });
  let fired = 0;
  timers.setTimeout(() => fired++, 10);
  timers.close();
  timers.setTimeout(() => fired++, 10);
  await s.runToIdle();
  assert.equal(fired, 0);
  assert.equal(s.pending, 0);
});

test("sim timers refuse to hold more than timersMax", () => {
  const timers = new SimTimers(new Scheduler(), { nodeId: "n1", timersMax: 2 });
  timers.setTimeout(() => undefined, 1);
  timers.setTimeout(() => undefined, 1);
  assert.throws(() => timers.setTimeout(() => undefined, 1), /node n1 holds 2 timers, the limit is 2/);
});
