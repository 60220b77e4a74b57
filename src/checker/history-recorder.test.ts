import { test } from "node:test";
import assert from "node:assert/strict";
import { HistoryRecorder } from "./history-recorder.js";
import { type RegisterOperation, failedOutput, unknownOutput, validateHistory } from "./history.js";
import { ShoalError } from "../errors.js";

function recorderAt(times: number[], operationsMax = 100) {
  let i = 0;
  return new HistoryRecorder<RegisterOperation>({ operationsMax, now: () => times[Math.min(i++, times.length - 1)]! });
}

test("the recorder times each operation from invoke to completion", () => {
  const recorder = recorderAt([1, 2, 5, 9]);
  const put = recorder.invoke({ client: "c1", key: "k", kind: "put", input: { value: "a" } });
  const get = recorder.invoke({ client: "c2", key: "k", kind: "get", input: null });
  put.complete("ok");
  get.complete("a");
  const history = recorder.history();
  validateHistory(history);
  assert.deepEqual(history, [
    { id: 0, client: "c1", key: "k", kind: "put", input: { value: "a" }, output: "ok", callAt: 1, returnAt: 5 },
    { id: 1, client: "c2", key: "k", kind: "get", input: null, output: "a", callAt: 2, returnAt: 9 },
  ]);
  assert.equal(recorder.pendingCount, 0);
});

test("a timed-out operation returns at infinity with an unknown output", () => {
  const recorder = recorderAt([1, 2]);
  recorder.invoke({ client: "c1", key: "k", kind: "increment", input: { by: 1 } }).timeout();
  const [op] = recorder.history();
  assert.equal(op!.returnAt, Infinity);
  assert.equal(op!.output, unknownOutput);
});

test("a failed operation keeps its return time and a failed output", () => {
  const recorder = recorderAt([1, 4]);
  recorder.invoke({ client: "c1", key: "k", kind: "delete", input: null }).fail("503 before any accept");
  const [op] = recorder.history();
  assert.deepEqual(op!.output, failedOutput("503 before any accept"));
  assert.equal(op!.returnAt, 4);
});

test("operations still pending when the history is taken count as indeterminate", () => {
  const recorder = recorderAt([1]);
  recorder.invoke({ client: "crashed", key: "k", kind: "put", input: { value: 1 } });
  assert.equal(recorder.pendingCount, 1);
  const [op] = recorder.history();
  assert.equal(op!.returnAt, Infinity);
  assert.equal(op!.output, unknownOutput);
  validateHistory(recorder.history());
});

test("ending an operation twice is a bug the recorder refuses", () => {
  const recorder = recorderAt([1, 2, 3]);
  const op = recorder.invoke({ client: "c1", key: "k", kind: "get", input: null });
  op.complete(null);
  assert.throws(() => op.timeout(), /ended twice/);
});

test("the recorder refuses more than operationsMax operations with a clear error", () => {
  const recorder = recorderAt([1], 2);
  recorder.invoke({ client: "c1", key: "k", kind: "get", input: null });
  recorder.invoke({ client: "c1", key: "k", kind: "get", input: null });
  assert.throws(
    () => recorder.invoke({ client: "c1", key: "k", kind: "get", input: null }),
    (error: unknown) =>
      error instanceof ShoalError &&
      error.code === "HistoryOperationsMax" &&
      /cannot record get on "k" by client c1: the history already holds 2 of 2 operations/.test(error.message),
  );
  assert.equal(recorder.size, 2);
});

test("a clock that goes backwards is refused, since intervals would lie", () => {
  const recorder = recorderAt([5, 3]);
  recorder.invoke({ client: "c1", key: "k", kind: "get", input: null });
  assert.throws(() => recorder.invoke({ client: "c1", key: "k", kind: "get", input: null }), /went backwards from 5 to 3/);
});
