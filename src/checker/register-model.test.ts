import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { describeRegisterOperation, hashRegisterState, registerModel, stepRegister } from "./register-model.js";
import { type RegisterOperation, absent, unknownOutput } from "./history.js";
import { parseRegisterHistory } from "./register-history-text.js";

const op = (line: string): RegisterOperation => parseRegisterHistory(line)[0]!;
const next = (state: ReturnType<typeof registerModel.init>, line: string) => stepRegister(state, op(line));

test("get accepts exactly the current state, and absent on a fresh key", () => {
  assert.deepEqual(next(absent, "c get() -> absent [0, 1]"), { ok: true, next: absent });
  assert.deepEqual(next("a", "c get() -> a [0, 1]"), { ok: true, next: "a" });
  assert.deepEqual(next("a", "c get() -> b [0, 1]"), { ok: false });
  assert.deepEqual(next(1, 'c get() -> "1" [0, 1]'), { ok: false }, "the number 1 and the string \"1\" differ");
});

test("compare-and-set applies only when the expected value matches; absent means create-only", () => {
  assert.deepEqual(next(absent, "c cas(absent, a) -> ok [0, 1]"), { ok: true, next: "a" });
  assert.deepEqual(next("a", "c cas(absent, b) -> ok [0, 1]"), { ok: false });
  assert.deepEqual(next("a", "c cas(absent, b) -> fail [0, 1]"), { ok: true, next: "a" });
  assert.deepEqual(next("a", "c cas(a, b) -> fail [0, 1]"), { ok: false });
});

test("an operation with an unknown output is accepted and leaves the state it would leave", () => {
  assert.deepEqual(next("a", "c cas(a, b) -> ? [0, inf)"), { ok: true, next: "b" });
  assert.deepEqual(next("x", "c cas(a, b) -> ? [0, inf)"), { ok: true, next: "x" });
  assert.deepEqual(next(absent, "c increment(4) -> ? [0, inf)"), { ok: true, next: 4 });
  assert.deepEqual(next("s", "c increment(4) -> ? [0, inf)"), { ok: true, next: "s" });
  assert.deepEqual(next("a", "c delete() -> ? [0, inf)"), { ok: true, next: absent });
  assert.deepEqual(next("a", "c get() -> ? [0, inf)"), { ok: true, next: "a" });
});

test("increment counts absent as zero and returns the new value", () => {
  assert.deepEqual(next(absent, "c increment(3) -> 3 [0, 1]"), { ok: true, next: 3 });
  assert.deepEqual(next(3, "c increment(2) -> 5 [0, 1]"), { ok: true, next: 5 });
  assert.deepEqual(next(3, "c increment(2) -> 2 [0, 1]"), { ok: false });
});

test("reads, failed compare-and-sets and not-found deletes are read-only; nothing else is", () => {
  for (const line of ["c get() -> ? [0, inf)", "c get() -> a [0, 1]", "c cas(a, b) -> fail [0, 1]", "c delete() -> not-found [0, 1]"]) {
    assert.equal(registerModel.isReadOnly(op(line)), true, line);
  }
  for (const line of ["c put(a) -> ? [0, inf)", "c delete() -> ? [0, inf)", "c delete() -> deleted [0, 1]", "c cas(a, b) -> ? [0, inf)", "c cas(a, b) -> ok [0, 1]", "c increment(1) -> ? [0, inf)"]) {
    assert.equal(registerModel.isReadOnly(op(line)), false, line);
  }
});

test("equal states hash equally, and numbers and strings hash apart", () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.integer(), fc.constant(absent)), (state) => {
      assert.equal(hashRegisterState(state), hashRegisterState(structuredClone(state)));
      assert(Number.isInteger(hashRegisterState(state)) && hashRegisterState(state) >= 0);
    }),
    { numRuns: 100, seed: 7 },
  );
  assert.notEqual(hashRegisterState(1), hashRegisterState("1"));
});

test("operations describe themselves the way a counterexample prints them", () => {
  assert.equal(describeRegisterOperation(op("c cas(absent, 1) -> ok [0, 1]")), "cas(absent, 1) -> ok");
  assert.equal(describeRegisterOperation(op("c get() -> absent [0, 1]")), "get() -> absent");
  assert.equal(describeRegisterOperation(op("c put(a) -> error [0, 1]")), 'put("a") -> failed');
  assert.equal(describeRegisterOperation({ ...op("c increment(2) -> 1 [0, 1]"), output: unknownOutput, returnAt: Infinity }), "increment(2) -> unknown");
});
