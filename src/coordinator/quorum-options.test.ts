import assert from "node:assert/strict";
import { test } from "node:test";
import { quorumOptions } from "./quorum-options.js";

const table = { n: 3, r: 2, w: 2 };

test("quorumOptions takes the table's n, r, w and leaves dw, pr, pw unasked", () => {
  assert.deepEqual(quorumOptions(table, {}, 5), { ok: true, quorum: { n: 3, r: 2, w: 2, dw: 0, pr: 0, pw: 0 } });
});

test("quorumOptions applies a request's overrides", () => {
  const result = quorumOptions(table, { r: 1, w: 3, dw: 2, pr: 1, pw: 2 }, 3);
  assert.deepEqual(result, { ok: true, quorum: { n: 3, r: 1, w: 3, dw: 2, pr: 1, pw: 2 } });
});

test("quorumOptions caps n at the member count and every quorum at that n", () => {
  assert.deepEqual(quorumOptions(table, {}, 1), { ok: true, quorum: { n: 1, r: 1, w: 1, dw: 0, pr: 0, pw: 0 } });
  assert.deepEqual(quorumOptions(table, { w: 3, dw: 3, pw: 3 }, 2), { ok: true, quorum: { n: 2, r: 2, w: 2, dw: 2, pr: 0, pw: 2 } });
});

test("quorumOptions refuses an override above the table's n, naming the value and the limit", () => {
  assert.deepEqual(quorumOptions(table, { r: 4 }, 5), { ok: false, error: "r=4 exceeds n=3" });
  assert.deepEqual(quorumOptions(table, { pw: 4 }, 5), { ok: false, error: "pw=4 exceeds n=3" });
  assert.deepEqual(quorumOptions(table, { dw: 7 }, 1), { ok: false, error: "dw=7 exceeds n=3" });
});

test("quorumOptions refuses zero reads or writes but accepts zero dw, pr and pw", () => {
  assert.deepEqual(quorumOptions(table, { r: 0 }, 3), { ok: false, error: "r=0 is below 1" });
  assert.deepEqual(quorumOptions(table, { w: 0 }, 3), { ok: false, error: "w=0 is below 1" });
  assert.deepEqual(quorumOptions(table, { pr: -1 }, 3), { ok: false, error: "pr=-1 is below 0" });
  assert.equal(quorumOptions(table, { dw: 0, pr: 0, pw: 0 }, 3).ok, true);
});

test("quorumOptions refuses values that are not whole numbers", () => {
  assert.deepEqual(quorumOptions(table, { w: 1.5 }, 3), { ok: false, error: "w=1.5 is not a whole number" });
  assert.deepEqual(quorumOptions(table, { r: Number.NaN }, 3), { ok: false, error: "r=NaN is not a whole number" });
});

test("quorumOptions checks the table's own values too", () => {
  assert.deepEqual(quorumOptions({ n: 3, r: 5, w: 2 }, {}, 3), { ok: false, error: "r=5 exceeds n=3" });
});
