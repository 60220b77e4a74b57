import { test } from "node:test";
import assert from "node:assert/strict";
import { Trace } from "./trace.js";

test("trace hash is 64-bit FNV-1a over the appended lines", () => {
  // FNV-1a 64 of "a\n", computed independently with BigInt.
  let h = 0xcbf29ce484222325n;
  for (const c of Buffer.from("a\n")) h = ((h ^ BigInt(c)) * 0x100000001b3n) & 0xffffffffffffffffn;
  const trace = new Trace();
  trace.add("a");
  assert.equal(trace.hex(), h.toString(16).padStart(16, "0"));
});

test("trace hash depends on content and order, and keeps lines only up to linesMax", () => {
  const a = new Trace({ linesMax: 1 });
  a.add("x");
  a.add("y");
  const b = new Trace();
  b.add("y");
  b.add("x");
  assert.notEqual(a.hex(), b.hex());
  assert.deepEqual(a.lines(), ["x"]);
  assert.equal(a.count, 2);
  const c = new Trace();
  c.addBytes(new Uint8Array([1, 2, 3]));
  const d = new Trace();
  d.addBytes(new Uint8Array([1, 2, 4]));
  assert.notEqual(c.hex(), d.hex());
});

test("firstDifference finds where two recorded runs diverge", () => {
  assert.equal(Trace.firstDifference(["a", "b", "c"], ["a", "x", "c"]), 1);
  assert.equal(Trace.firstDifference(["a", "b"], ["a", "b"]), -1);
  assert.equal(Trace.firstDifference(["a"], ["a", "b"]), 1);
});
