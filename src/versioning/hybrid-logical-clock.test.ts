import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { Clock } from "../runtime/runtime.js";
import { AssertionError } from "../assert.js";
import { HLC_LOGICAL_BITS, HybridLogicalClock, hlcFrom, hlcLogical, hlcPhysicalMs } from "./hybrid-logical-clock.js";

/** A wall clock the test moves by hand, forwards or backwards. */
class FakeClock implements Clock {
  constructor(public ms: number) {}
  nowMs(): number {
    return this.ms;
  }
}

const T0 = 1_763_000_000_000; // November 2025, in ms
const LOGICAL_MAX = (1 << HLC_LOGICAL_BITS) - 1;
const maxSkewMs = 60_000;

function setup(startMs = T0): { wall: FakeClock; hlc: HybridLogicalClock } {
  const wall = new FakeClock(startMs);
  return { wall, hlc: new HybridLogicalClock(wall, maxSkewMs) };
}

test("a timestamp orders like its (physical, logical) pair and splits back into it", () => {
  const ts = hlcFrom(T0, 5);
  assert.equal(hlcPhysicalMs(ts), T0);
  assert.equal(hlcLogical(ts), 5);
  assert.ok(hlcFrom(T0, LOGICAL_MAX) < hlcFrom(T0 + 1, 0));
  assert.ok(Number.isSafeInteger(hlcFrom(T0, LOGICAL_MAX)));
  assert.throws(() => hlcFrom(T0, LOGICAL_MAX + 1), AssertionError);
});

test("now follows the wall clock when it moves forward", () => {
  const { wall, hlc } = setup();
  assert.equal(hlc.now(), hlcFrom(T0, 0));
  wall.ms = T0 + 7.9;
  assert.equal(hlc.now(), hlcFrom(T0 + 7, 0));
  assert.equal(hlc.peek(), hlcFrom(T0 + 7, 0));
});

test("now stays monotonic when the wall clock stands still or goes backwards", () => {
  const { wall, hlc } = setup();
  const first = hlc.now();
  const second = hlc.now();
  wall.ms = T0 - 5_000;
  const third = hlc.now();
  assert.deepEqual([second - first, third - second], [1, 1]);
  assert.equal(hlcPhysicalMs(third), T0);
  wall.ms = T0 + 1;
  assert.equal(hlc.now(), hlcFrom(T0 + 1, 0));
});

test("now is strictly increasing under any walk of the wall clock", () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: -3_000, max: 3_000 }), { minLength: 1, maxLength: 300 }), (steps) => {
      const { wall, hlc } = setup();
      let previous = -1;
      for (const stepMs of steps) {
        wall.ms += stepMs;
        const ts = hlc.now();
        assert.ok(ts > previous, `timestamp ${ts} after ${previous}`);
        assert.ok(hlcPhysicalMs(ts) >= Math.floor(wall.ms));
        previous = ts;
      }
    }),
    { seed: 0x5eed_0003, numRuns: 200 },
  );
});

test("the logical counter carries into the physical part instead of overflowing", () => {
  const { hlc } = setup();
  hlc.advanceTo(hlcFrom(T0, LOGICAL_MAX - 1));
  assert.equal(hlc.now(), hlcFrom(T0, LOGICAL_MAX));
  const carried = hlc.now();
  assert.equal(carried, hlcFrom(T0 + 1, 0));
  assert.deepEqual([hlcPhysicalMs(carried), hlcLogical(carried)], [T0 + 1, 0]);
});

test("receive returns a timestamp above both the remote one and every earlier local one", () => {
  const { hlc } = setup();
  const local = hlc.now();
  const remote = hlcFrom(T0 + 2_000, 9);
  const merged = hlc.receive(remote);
  assert.deepEqual(merged, { ok: true, timestamp: remote + 1 });
  assert.ok(hlc.now() > remote && remote > local);

  const behind = hlcFrom(T0 - 10_000, 0);
  const before = hlc.peek();
  const afterOld = hlc.receive(behind);
  assert.deepEqual(afterOld, { ok: true, timestamp: before + 1 });
});

test("receive takes the wall clock when it is ahead of both", () => {
  const { wall, hlc } = setup();
  hlc.now();
  wall.ms = T0 + 500;
  assert.deepEqual(hlc.receive(hlcFrom(T0 + 100, 3)), { ok: true, timestamp: hlcFrom(T0 + 500, 0) });
});

test("receive merges are above both inputs for any interleaving", () => {
  const eventArb = fc.oneof(
    fc.record({ kind: fc.constant("tick" as const), stepMs: fc.integer({ min: -2_000, max: 2_000 }) }),
    fc.record({ kind: fc.constant("receive" as const), offsetMs: fc.integer({ min: -5_000, max: maxSkewMs }), logical: fc.integer({ min: 0, max: LOGICAL_MAX }) }),
  );
  fc.assert(
    fc.property(fc.array(eventArb, { maxLength: 200 }), (events) => {
      const { wall, hlc } = setup();
      for (const event of events) {
        const before = hlc.peek();
        if (event.kind === "tick") {
          wall.ms += event.stepMs;
          assert.ok(hlc.now() > before);
          continue;
        }
        const remote = hlcFrom(Math.floor(wall.ms) + event.offsetMs, event.logical);
        const result = hlc.receive(remote);
        assert.ok(result.ok);
        assert.ok(result.timestamp > before && result.timestamp > remote && result.timestamp === hlc.peek());
      }
    }),
    { seed: 0x5eed_0004, numRuns: 200 },
  );
});

test("a remote timestamp further ahead than maxSkewMs is refused and leaves the clock unchanged", () => {
  const { hlc } = setup();
  const before = hlc.now();
  assert.deepEqual(hlc.receive(hlcFrom(T0 + maxSkewMs + 1, 0)), { ok: false, skewMs: maxSkewMs + 1 });
  assert.equal(hlc.peek(), before);
  assert.equal(hlc.now(), before + 1);
  const atLimit = hlcFrom(T0 + maxSkewMs, 0);
  assert.deepEqual(hlc.receive(atLimit), { ok: true, timestamp: atLimit + 1 });
});

test("receive refuses a timestamp that is not a non-negative safe integer instead of poisoning the clock", () => {
  for (const bad of [Number.NaN, 1.5, -1, Number.NEGATIVE_INFINITY]) {
    const { hlc } = setup();
    const before = hlc.now();
    assert.throws(() => hlc.receive(bad), AssertionError, `receive(${bad})`);
    assert.equal(hlc.peek(), before);
    assert.equal(hlc.now(), before + 1);
  }
});

test("advanceTo refuses a floor that is not a non-negative safe integer instead of poisoning the clock", () => {
  for (const bad of [Number.NaN, hlcFrom(T0, 0) + 0.5, -1]) {
    const { hlc } = setup();
    const before = hlc.now();
    assert.throws(() => hlc.advanceTo(bad), AssertionError, `advanceTo(${bad})`);
    assert.equal(hlc.now(), before + 1);
  }
});

test("advanceTo restores a floor after a restart and never moves the clock back", () => {
  const { wall, hlc } = setup();
  const floor = hlcFrom(T0 + 30_000, 4);
  hlc.advanceTo(floor);
  assert.equal(hlc.peek(), floor);
  assert.equal(hlc.now(), floor + 1);
  hlc.advanceTo(hlcFrom(T0, 0));
  assert.equal(hlc.peek(), floor + 1);
  wall.ms = T0 + 40_000;
  assert.equal(hlc.now(), hlcFrom(T0 + 40_000, 0));
});
