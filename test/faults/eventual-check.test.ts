import { test } from "node:test";
import assert from "node:assert/strict";
import { checkEventualWrites } from "./eventual-check.js";
import type { EventualWriteRecord } from "./eventual-workload.js";

let nextId = 0;
function write(fields: Partial<EventualWriteRecord> & Pick<EventualWriteRecord, "kind">): EventualWriteRecord {
  return { id: nextId++, client: 0, node: 0, key: "k", saw: [], outcome: "ok", detail: "200", ...fields };
}

test("an acknowledged put missing from the final siblings, seen by no later write, is a lost write", () => {
  const summary = checkEventualWrites([write({ kind: "put", value: "a" }), write({ kind: "put", value: "b" })], new Map([["k", ["b"]]]));
  assert.equal(summary.lost, 1);
  assert.deepEqual(summary.findings.map((f) => [f.kind, f.value]), [["lost-write", "a"]]);
});

test("a put superseded by a write whose read saw it is not lost, even if that write's outcome is unknown", () => {
  const writes = [write({ kind: "put", value: "a" }), write({ kind: "put", value: "b", saw: ["a"], outcome: "unknown" })];
  const summary = checkEventualWrites(writes, new Map([["k", []]]));
  assert.equal(summary.lost, 0);
});

test("a write refused with a 4xx supersedes nothing", () => {
  const writes = [write({ kind: "put", value: "a" }), write({ kind: "put", value: "b", saw: ["a"], outcome: "failed" })];
  assert.equal(checkEventualWrites(writes, new Map([["k", []]])).lost, 1);
});

test("a value an acknowledged delete saw coming back is a resurrection; an unacknowledged delete proves nothing", () => {
  const acked = [write({ kind: "put", value: "a" }), write({ kind: "delete", saw: ["a"] })];
  assert.equal(checkEventualWrites(acked, new Map([["k", ["a"]]])).resurrected, 1);
  const unknown = [write({ kind: "put", value: "a" }), write({ kind: "delete", saw: ["a"], outcome: "unknown" })];
  assert.equal(checkEventualWrites(unknown, new Map([["k", ["a"]]])).resurrected, 0);
});

test("a final sibling no put wrote is a phantom; unacknowledged puts may appear", () => {
  const writes = [write({ kind: "put", value: "a", outcome: "unknown" })];
  const summary = checkEventualWrites(writes, new Map([["k", ["a", "zzz"]]]));
  assert.equal(summary.phantoms, 1);
  assert.equal(summary.findings[0]!.value, "zzz");
});

test("siblings kept side by side lose nothing", () => {
  const writes = [write({ kind: "put", value: "a" }), write({ kind: "put", value: "b", client: 1 })];
  const summary = checkEventualWrites(writes, new Map([["k", ["a", "b"]]]));
  assert.deepEqual([summary.lost, summary.resurrected, summary.phantoms, summary.acknowledged], [0, 0, 0, 2]);
});
