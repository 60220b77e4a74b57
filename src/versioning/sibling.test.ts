import { test } from "node:test";
import assert from "node:assert/strict";
import { Packr } from "msgpackr";
import * as dvvset from "./dotted-version-vector-set.js";
import { compareSiblingsForLww, isSibling, liveSiblings, type Sibling } from "./sibling.js";

function sibling(text: string, timestamp: number, tombstone = false): Sibling {
  return { value: new TextEncoder().encode(text), contentType: "text/plain", metadata: [], timestamp, tombstone, expiresAtMs: null };
}

test("a delete with a context supersedes what it saw; one without a context deletes nothing", () => {
  const stored = dvvset.update(dvvset.newValue(sibling("v1", 10)), dvvset.empty(), "a");
  const blindDelete = dvvset.update(dvvset.newValue(sibling("", 11, true)), stored, "b");
  assert.deepEqual(liveSiblings(dvvset.values(blindDelete)).map((s) => s.timestamp), [10]);
  const delete_ = dvvset.update(dvvset.newWithContext(dvvset.join(blindDelete), sibling("", 12, true)), blindDelete, "a");
  assert.deepEqual(liveSiblings(dvvset.values(delete_)), []);
  assert.equal(dvvset.size(delete_), 1);
  const recreated = dvvset.update(dvvset.newWithContext(dvvset.join(delete_), sibling("v2", 13)), delete_, "c");
  assert.deepEqual(dvvset.values(recreated).map((s) => s.timestamp), [13]);
});

test("siblings pass their guard and lww orders them by timestamp, then structurally", () => {
  const a = sibling("a", 5);
  const b = sibling("b", 5);
  assert.ok(isSibling(a) && !isSibling({ ...a, metadata: [["z", "1"], ["a", "2"]] }) && !isSibling({ ...a, timestamp: 1.5 }));
  assert.ok(compareSiblingsForLww(sibling("z", 4), a) < 0);
  assert.ok(compareSiblingsForLww(a, b) < 0 && compareSiblingsForLww(b, a) > 0);
  assert.equal(compareSiblingsForLww(a, sibling("a", 5)), 0);
  const set = dvvset.sync(dvvset.update(dvvset.newValue(b), dvvset.empty(), "x"), dvvset.update(dvvset.newValue(a), dvvset.empty(), "y"));
  assert.deepEqual(dvvset.values(dvvset.lww(set, compareSiblingsForLww)), [b]);
});

test("a sibling survives a MessagePack round trip as a set member, including odd metadata names", () => {
  const packr = new Packr({ useRecords: false, moreTypes: false, structuredClone: false });
  const stored = dvvset.update(
    dvvset.newValue({ ...sibling("v", 7), metadata: [["__proto__", "x"], ["color", "blue"]] as const }),
    dvvset.empty<Sibling>(),
    "a",
  );
  const parsed = dvvset.parse(packr.unpack(packr.pack(stored)), isSibling);
  assert.ok(parsed.ok);
  const [decoded] = dvvset.values(parsed.set);
  assert.deepEqual(decoded!.metadata, [["__proto__", "x"], ["color", "blue"]]);
  assert.deepEqual([...decoded!.value], [...new TextEncoder().encode("v")]);
  assert.equal(compareSiblingsForLww(decoded!, dvvset.values(stored)[0]!), 0);
});
