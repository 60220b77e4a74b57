import { test } from "node:test";
import assert from "node:assert/strict";
import { checkLinearizability } from "./linearizability-checker.js";
import { formatCounterexample } from "./counterexample.js";
import { registerModel } from "./register-model.js";
import { parseRegisterHistory } from "./register-history-text.js";
import { type RegisterOperation, unknownOutput } from "./history.js";

function check(text: string, stepsMax?: number) {
  return checkLinearizability(parseRegisterHistory(text), registerModel, stepsMax === undefined ? {} : { stepsMax });
}

function assertLinearizable(text: string): void {
  const result = check(text);
  assert.equal(result.ok, true, result.ok === false ? formatCounterexample(result.counterexample) : JSON.stringify(result));
}

function assertNotLinearizable(text: string) {
  const result = check(text);
  assert.equal(result.ok, false, `expected a counterexample, got ${JSON.stringify(result)}`);
  assert(result.ok === false);
  return result.counterexample;
}

test("an empty history is linearizable", () => {
  assertLinearizable("");
});

test("a sequential history that follows the register is linearizable", () => {
  assertLinearizable(`
    c1 get() -> absent [0, 1]
    c1 put(a) -> ok [2, 3]
    c2 get() -> a [4, 5]
    c1 put(b) -> ok [6, 7]
    c2 get() -> b [8, 9]
    c1 delete() -> ok [10, 11]
    c2 get() -> absent [12, 13]
  `);
});

test("a sequential read of a value never written is not linearizable", () => {
  assertNotLinearizable(`
    c1 put(a) -> ok [0, 1]
    c2 get() -> b [2, 3]
  `);
  assertNotLinearizable("c1 get() -> a [0, 1]");
});

test("overlapping writes may be read in either order", () => {
  const writes = `
    c1 put(a) -> ok [0, 10]
    c2 put(b) -> ok [0, 10]
  `;
  assertLinearizable(`${writes}\n c3 get() -> a [20, 30]`);
  assertLinearizable(`${writes}\n c3 get() -> b [20, 30]`);
  // Reads during the writes may even flip once, from the first-applied to the second.
  assertLinearizable(`${writes}\n c3 get() -> b [1, 2]\n c3 get() -> a [3, 4]`);
});

test("after overlapping writes finish, two sequential reads must agree", () => {
  assertNotLinearizable(`
    c1 put(a) -> ok [0, 10]
    c2 put(b) -> ok [0, 10]
    c3 get() -> a [20, 30]
    c3 get() -> b [40, 50]
  `);
});

test("a stale read after a completed write is not linearizable", () => {
  assertNotLinearizable(`
    c1 put(a) -> ok [0, 10]
    c1 put(b) -> ok [20, 30]
    c2 get() -> a [40, 50]
  `);
});

test("reads that see a newer value and then an older one are not linearizable", () => {
  const history = `
    c1 put(a) -> ok [0, 10]
    c1 put(b) -> ok [20, 100]
  `;
  assertLinearizable(`${history}\n c2 get() -> a [30, 40]\n c3 get() -> b [50, 60]`);
  assertNotLinearizable(`${history}\n c2 get() -> b [30, 40]\n c3 get() -> a [50, 60]`);
});

test("intervals are closed: operations touching at an endpoint are concurrent", () => {
  assertLinearizable(`
    c1 put(a) -> ok [0, 10]
    c2 get() -> absent [10, 20]
  `);
  assertNotLinearizable(`
    c1 put(a) -> ok [0, 10]
    c2 get() -> absent [11, 20]
  `);
});

test("a chain of compare-and-sets is linearizable when each saw its predecessor", () => {
  assertLinearizable(`
    c1 cas(absent, 0) -> ok [0, 5]
    c2 cas(0, 1) -> ok [10, 20]
    c3 cas(0, 2) -> fail [12, 22]
    c3 cas(1, 2) -> ok [30, 40]
    c1 cas(1, 3) -> fail [50, 60]
    c2 get() -> 2 [70, 80]
  `);
});

test("two compare-and-sets from the same expected value cannot both succeed", () => {
  assertNotLinearizable(`
    c1 put(0) -> ok [0, 5]
    c2 cas(0, 1) -> ok [10, 20]
    c3 cas(0, 2) -> ok [10, 20]
  `);
  assertNotLinearizable(`
    c1 cas(absent, a) -> ok [0, 10]
    c2 cas(absent, b) -> ok [0, 10]
  `);
});

test("a compare-and-set that failed although the value matched is not linearizable", () => {
  assertNotLinearizable(`
    c1 put(0) -> ok [0, 5]
    c2 cas(0, 1) -> fail [10, 20]
  `);
});

test("concurrent increments that both see the same old value lose an update", () => {
  assertNotLinearizable(`
    c1 increment(1) -> 1 [0, 10]
    c2 increment(1) -> 1 [0, 10]
  `);
  assertLinearizable(`
    c1 increment(1) -> 2 [0, 10]
    c2 increment(1) -> 1 [0, 10]
    c3 get() -> 2 [20, 30]
  `);
});

test("a read after acknowledged increments must count all of them", () => {
  assertNotLinearizable(`
    c1 increment(1) -> 1 [0, 10]
    c2 increment(5) -> 6 [20, 30]
    c3 get() -> 5 [40, 50]
  `);
});

test("increment of a string value cannot return a number", () => {
  assertNotLinearizable(`
    c1 put(a) -> ok [0, 5]
    c2 increment(1) -> 1 [10, 20]
  `);
});

test("a read after an acknowledged delete sees nothing", () => {
  const history = `
    c1 put(a) -> ok [0, 10]
    c1 delete() -> ok [20, 30]
  `;
  assertLinearizable(`${history}\n c2 get() -> absent [40, 50]`);
  assertNotLinearizable(`${history}\n c2 get() -> a [40, 50]`);
});

test("a delete that reports whether it found something is checked against the state", () => {
  assertLinearizable(`
    c1 delete() -> not-found [0, 5]
    c1 put(a) -> ok [10, 15]
    c1 delete() -> deleted [20, 25]
  `);
  assertNotLinearizable("c1 delete() -> deleted [0, 5]");
  assertNotLinearizable(`
    c1 put(a) -> ok [0, 5]
    c1 delete() -> not-found [10, 15]
  `);
});

test("a key deleted and created again shows only the new value", () => {
  assertNotLinearizable(`
    c1 put(a) -> ok [0, 5]
    c1 delete() -> ok [10, 15]
    c1 cas(absent, b) -> ok [20, 25]
    c2 get() -> a [30, 35]
  `);
});

test("an indeterminate write that a later read sees is assumed to have happened", () => {
  assertLinearizable(`
    c1 put(a) -> ? [0, inf)
    c2 get() -> a [20, 30]
    c2 get() -> a [40, 50]
  `);
});

test("an indeterminate write that nobody reads is assumed not to have happened", () => {
  assertLinearizable(`
    c1 put(a) -> ? [0, inf)
    c2 get() -> absent [20, 30]
    c2 get() -> absent [40, 50]
  `);
});

test("an indeterminate write may take effect long after its client gave up", () => {
  assertLinearizable(`
    c1 put(x) -> ok [0, 10]
    c2 put(a) -> ? [5, inf)
    c3 get() -> x [20, 30]
    c3 get() -> a [40, 50]
  `);
  // ...but only once: after it is seen, the older value cannot come back.
  assertNotLinearizable(`
    c1 put(x) -> ok [0, 10]
    c2 put(a) -> ? [5, inf)
    c3 get() -> a [20, 30]
    c3 get() -> x [40, 50]
  `);
});

test("an indeterminate write cannot take effect before its call", () => {
  assertNotLinearizable(`
    c1 get() -> a [0, 10]
    c2 put(a) -> ? [20, inf)
  `);
});

test("an indeterminate operation cannot explain a read of a value nobody wrote", () => {
  assertNotLinearizable(`
    c1 put(a) -> ? [0, inf)
    c2 cas(absent, b) -> ? [0, inf)
    c3 get() -> z [20, 30]
  `);
});

test("indeterminate increments are counted at most once each", () => {
  assertLinearizable(`
    c1 increment(1) -> ? [0, inf)
    c2 increment(1) -> 1 [10, 20]
    c3 get() -> 2 [30, 40]
  `);
  assertNotLinearizable(`
    c1 increment(1) -> ? [0, inf)
    c2 increment(1) -> 1 [10, 20]
    c3 get() -> 3 [30, 40]
  `);
});

test("a definitely failed write did not happen, so reading its value is not linearizable", () => {
  const failed = "c1 put(a) -> error [0, 10]";
  assertLinearizable(`${failed}\n c2 get() -> absent [20, 30]`);
  assertNotLinearizable(`${failed}\n c2 get() -> a [20, 30]`);
});

test("CASSANDRA-12126: a read that skipped a partial write, then the write completed, is caught", () => {
  // c1's compare-and-set timed out after one acceptor accepted it. c2's read did not see it,
  // c3's compare-and-set succeeded from the value c2 read, and then a read completed the
  // partial write. No single point for c1's change explains all three answers.
  const counterexample = assertNotLinearizable(`
    c0 put(v0) -> ok [0, 5]
    c1 cas(v0, a) -> ? [10, inf)
    c2 get() -> v0 [20, 30]
    c3 cas(v0, b) -> ok [40, 50]
    c4 get() -> a [60, 70]
  `);
  assert.equal(counterexample.key, "k");
  // Without c3's compare-and-set, the partial write may simply have landed late.
  assertLinearizable(`
    c0 put(v0) -> ok [0, 5]
    c1 cas(v0, a) -> ? [10, inf)
    c2 get() -> v0 [20, 30]
    c4 get() -> a [60, 70]
  `);
});

test("CASSANDRA-12126 with a write reported failed: completing it later is not linearizable", () => {
  assertNotLinearizable(`
    c0 put(v0) -> ok [0, 5]
    c1 cas(v0, a) -> error [10, 20]
    c2 get() -> v0 [30, 40]
    c4 get() -> a [60, 70]
  `);
});

test("keys are checked separately: each key alone is linearizable", () => {
  // As one register this would need both "a" and "b" last; as two registers it is fine.
  assertLinearizable(`
    c1 x.put(a) -> ok [0, 10]
    c2 y.put(b) -> ok [0, 10]
    c3 x.get() -> a [20, 30]
    c4 y.get() -> b [20, 30]
    c3 x.get() -> a [40, 50]
    c4 y.get() -> b [40, 50]
  `);
});

test("one bad key among good ones is the key the counterexample names", () => {
  const counterexample = assertNotLinearizable(`
    c1 x.put(a) -> ok [0, 10]
    c2 y.put(a) -> ok [0, 10]
    c1 x.get() -> a [20, 30]
    c2 y.put(b) -> ok [20, 30]
    c3 y.get() -> a [40, 50]
    c4 z.increment(1) -> 1 [0, 5]
  `);
  assert.equal(counterexample.key, "y");
});

test("the counterexample shows the longest prefix, the stuck operation and what overlaps it", () => {
  const counterexample = assertNotLinearizable(`
    c1 put(a) -> ok [0, 10]
    c1 put(b) -> ok [20, 30]
    c3 put(c) -> ? [35, inf)
    c2 get() -> a [40, 50]
  `);
  // The unknown put("c") is read by nobody, so nothing needs it: the search never places it,
  // but the counterexample still lists it among the overlapping operations.
  assert.deepEqual(counterexample.prefix.map((item) => item.text), ['put("a") -> ok', 'put("b") -> ok']);
  assert.equal(counterexample.stuck.op.id, 3);
  assert.deepEqual(counterexample.concurrent.map((item) => [item.op.id, item.inPrefix]), [[2, false], [3, false]]);
  const text = formatCounterexample(counterexample);
  assert.match(text, /key "k", 4 operations/);
  assert.match(text, /#0 client c1 {2}put\("a"\) -> ok {3}\[0, 10\] {3}=> "a"/);
  assert.match(text, /no order works once #3 returns \(state after the prefix: "b"\): get\(\) -> "a" {3}\[40, 50\]/);
  assert.match(text, /#2 client c3 {2}put\("c"\) -> unknown {3}\[35, ∞\)$/m);
});

test("formatCounterexample bounds the lines it prints", () => {
  const puts = Array.from({ length: 30 }, (_, i) => `c1 put(${i}) -> ok [${i * 10}, ${i * 10 + 5}]`).join("\n");
  const counterexample = assertNotLinearizable(`${puts}\n c2 get() -> 3 [400, 410]`);
  const text = formatCounterexample(counterexample, { prefixLinesMax: 5 });
  assert.match(text, /\.\.\. 25 earlier operations/);
  assert.equal(text.split("\n").length, 2 + 1 + 5 + 2 + 1);
});

test("the step budget turns a long search into an unknown answer", () => {
  // Many concurrent increments whose outputs force the search to try many orders.
  const ops = Array.from({ length: 12 }, (_, i) => `c${i} increment(1) -> ${12 - i} [0, 100]`).join("\n");
  const result = check(ops, 5);
  assert.equal(result.ok, "unknown");
  assert(result.ok === "unknown");
  assert.equal(result.reason, "budget");
  assert.equal(result.stats.steps, 5);
  assert.equal(check(ops).ok, true);
});

test("failed operations and indeterminate reads are dropped before the search", () => {
  const result = check(`
    c1 put(a) -> error [0, 10]
    c2 get() -> ? [0, inf)
    c3 put(b) -> ok [0, 10]
  `);
  assert(result.ok === true);
  assert.equal(result.stats.operations, 1);
});

test("a history whose indeterminate operation returns at a finite time is refused", () => {
  const op: RegisterOperation = { id: 0, client: "c1", key: "k", kind: "put", input: { value: "a" }, output: unknownOutput, callAt: 0, returnAt: 10 };
  assert.throws(() => checkLinearizability([op], registerModel), /indeterminate operations return at Infinity/);
});

test("a history with duplicate ids or a return before its call is refused", () => {
  const [a, b] = parseRegisterHistory("c1 put(a) -> ok [0, 10]\nc1 put(b) -> ok [20, 30]");
  assert.throws(() => checkLinearizability([a!, { ...b!, id: a!.id }], registerModel), /two operations with id 0/);
  assert.throws(() => checkLinearizability([{ ...a!, returnAt: -1 }], registerModel), /before its call/);
});

test("concurrent reads are linearized as soon as they can be, not tried in every order", () => {
  // A write and 40 reads all overlapping; half saw the old value, half the new. Trying every
  // subset of reads on either side of the write is 2^40 configurations; placing each read as
  // soon as the state allows needs only a few thousand steps.
  const reads = Array.from({ length: 40 }, (_, i) => `c${i} get() -> ${i % 2 === 0 ? "absent" : "a"} [${1 + i}, 100]`);
  const result = check(["w put(a) -> ok [0, 100]", ...reads].join("\n"), 20_000);
  assert.equal(result.ok, true, JSON.stringify(result));
});
