import { test } from "node:test";
import assert from "node:assert/strict";
import { parseRegisterHistory } from "./register-history-text.js";
import { failedOutput, unknownOutput } from "./history.js";

test("the history notation reads keys, values, outputs and intervals", () => {
  const ops = parseRegisterHistory(`
    # a comment line
    c1 put(a) -> ok [0, 10]
    c2 x.get() -> "7" [5, 15]   # a quoted string, on key x
    c3 cas(absent, 7) -> ? [7, inf)
    c4 increment(2) -> error [8, 9]
  `);
  assert.deepEqual(ops, [
    { id: 0, client: "c1", key: "k", kind: "put", input: { value: "a" }, output: "ok", callAt: 0, returnAt: 10 },
    { id: 1, client: "c2", key: "x", kind: "get", input: null, output: "7", callAt: 5, returnAt: 15 },
    { id: 2, client: "c3", key: "k", kind: "cas", input: { expected: null, value: 7 }, output: unknownOutput, callAt: 7, returnAt: Infinity },
    { id: 3, client: "c4", key: "k", kind: "increment", input: { by: 2 }, output: failedOutput("error"), callAt: 8, returnAt: 9 },
  ]);
});

test("the history notation refuses lines it cannot read", () => {
  assert.throws(() => parseRegisterHistory("c1 put(a) ok [0, 10]"), /cannot parse history line/);
  assert.throws(() => parseRegisterHistory("c1 put() -> ok [0, 10]"), /put takes 1 arguments/);
  assert.throws(() => parseRegisterHistory("c1 put(a) -> ok [0, inf)"), /needs a finite return time/);
});
