import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { TimerHandle, Timers } from "../runtime/runtime.js";
import { PendingRequests } from "./pending-requests.js";

/** Virtual time: timers fire only when the test advances the clock past them. */
class VirtualTime implements Timers {
  nowMs = 0;
  private nextId = 1;
  readonly live = new Map<number, { callback: () => void; dueMs: number }>();
  readonly clock = { nowMs: () => this.nowMs };
  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const id = this.nextId++;
    this.live.set(id, { callback, dueMs: this.nowMs + delayMs });
    return { id };
  }
  clearTimeout(handle: TimerHandle): void {
    this.live.delete(handle.id);
  }
  advanceTo(targetMs: number): void {
    for (;;) {
      const due = [...this.live.entries()].filter(([, t]) => t.dueMs <= targetMs).sort((x, y) => x[1].dueMs - y[1].dueMs)[0];
      if (due === undefined) break;
      this.live.delete(due[0]);
      this.nowMs = due[1].dueMs;
      due[1].callback();
    }
    this.nowMs = targetMs;
  }
}

function setup() {
  const time = new VirtualTime();
  const pending = new PendingRequests<string>(time, time.clock, "timeout");
  const results = new Map<number, string>();
  const add = (id: number, timeoutMs: number) => pending.add(id, (r) => results.set(id, r), timeoutMs);
  return { time, pending, results, add };
}

test("a request answered before its deadline gets the answer and never the timeout", () => {
  const { time, pending, results, add } = setup();
  add(1, 100);
  assert.equal(pending.settle(1, "reply"), true);
  time.advanceTo(1000);
  assert.deepEqual([...results], [[1, "reply"]]);
  assert.equal(pending.settle(1, "late"), false);
});

test("requests expire at their own deadlines, whatever order they were added in", () => {
  const { time, results, add } = setup();
  add(1, 300);
  add(2, 100);
  add(3, 200);
  time.advanceTo(150);
  assert.deepEqual([...results.keys()], [2]);
  time.advanceTo(250);
  assert.deepEqual([...results.keys()], [2, 3]);
  time.advanceTo(300);
  assert.deepEqual([...results.keys()], [2, 3, 1]);
  assert.ok([...results.values()].every((r) => r === "timeout"));
});

test("one timer serves all pending requests", () => {
  const { time, add } = setup();
  for (let id = 1; id <= 100; id++) add(id, 1000 + id);
  assert.equal(time.live.size, 1);
});

test("closing settles every pending request and stops the timer", () => {
  const { time, pending, results, add } = setup();
  add(1, 100);
  add(2, 200);
  pending.settleAll("closed");
  assert.equal(time.live.size, 0);
  assert.deepEqual([...results.values()], ["closed", "closed"]);
  assert.equal(pending.size, 0);
});

test("every request resolves exactly once: with its answer if answered in time, else timeout", () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ timeoutMs: fc.integer({ min: 0, max: 500 }), answerAtMs: fc.option(fc.integer({ min: 0, max: 600 })) }), { maxLength: 30 }),
      (requests) => {
        const { time, pending } = setup();
        const resolved = new Map<number, string[]>();
        requests.forEach((r, id) => {
          resolved.set(id, []);
          pending.add(id, (result) => resolved.get(id)!.push(result), r.timeoutMs);
        });
        const answers = requests.flatMap((r, id) => (r.answerAtMs === null ? [] : [{ id, atMs: r.answerAtMs }])).sort((x, y) => x.atMs - y.atMs);
        for (const answer of answers) {
          time.advanceTo(answer.atMs);
          pending.settle(answer.id, "reply");
        }
        time.advanceTo(10_000);
        requests.forEach((r, id) => {
          const got = resolved.get(id)!;
          assert.equal(got.length, 1, `request ${id} resolved ${got.length} times`);
          const answeredInTime = r.answerAtMs !== null && r.answerAtMs < r.timeoutMs;
          if (answeredInTime) assert.equal(got[0], "reply");
          if (r.answerAtMs === null || r.answerAtMs > r.timeoutMs) assert.equal(got[0], "timeout");
        });
        assert.equal(pending.size, 0);
        assert.equal(time.live.size, 0);
      },
    ),
    { seed: 11, numRuns: 200 },
  );
});
