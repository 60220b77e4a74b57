import { test } from "node:test";
import assert from "node:assert/strict";
import { Packr } from "msgpackr";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import type { Sibling } from "../versioning/sibling.js";
import { decodeSiblingRecord, decodeSiblingRecordIfAny, encodeSiblingRecord } from "./sibling-record.js";

const packr = new Packr({ useRecords: false, moreTypes: false, structuredClone: false });

function sibling(text: string): Sibling {
  return { value: new TextEncoder().encode(text), contentType: "text/plain", metadata: [], timestamp: 1, tombstone: false, expiresAtMs: null };
}

const set = dvvset.update(dvvset.newValue(sibling("x")), dvvset.empty<Sibling>(), "n1");

test("the bytes just encoded decode to their set without unpacking (the storage layer's re-decode is free)", () => {
  const bytes = encodeSiblingRecord(set);
  assert.equal(decodeSiblingRecord(bytes), set);
  assert.equal(decodeSiblingRecordIfAny(bytes), set);
});

test("a copy of the bytes (what storage hands back) decodes afresh to an equal set", () => {
  const copy = encodeSiblingRecord(set).slice();
  const decoded = decodeSiblingRecord(copy);
  assert.notEqual(decoded, set);
  assert.ok(dvvset.equal(decoded, set));
  assert.ok(dvvset.equal(decodeSiblingRecordIfAny(copy)!, set));
});

test("a record of another format is not a sibling record: undefined from IfAny, an assertion from decode", () => {
  const other = packr.pack([3, { promised: [1, "n1"] }]);
  assert.equal(decodeSiblingRecordIfAny(other), undefined);
  assert.equal(decodeSiblingRecordIfAny(packr.pack("not a pair")), undefined);
  assert.throws(() => decodeSiblingRecord(other), /format 3/);
});

test("a format-2 record whose set does not parse is an assertion on both paths", () => {
  const broken = packr.pack([2, { entries: "no", anonymous: [] }]);
  assert.throws(() => decodeSiblingRecordIfAny(broken), /sibling record/);
  assert.throws(() => decodeSiblingRecord(broken), /sibling record/);
  assert.throws(() => decodeSiblingRecordIfAny(packr.pack([2, set, "extra"])), /pair/);
});
