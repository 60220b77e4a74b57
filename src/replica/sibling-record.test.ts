import { test } from "node:test";
import assert from "node:assert/strict";
import { Packr } from "msgpackr";
import fc from "fast-check";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import { isSibling, type Sibling } from "../versioning/sibling.js";
import { comparePlainData } from "../versioning/plain-data-order.js";
import { decodeSiblingRecord, decodeSiblingRecordIfAny, encodeSiblingRecord, SIBLING_RECORD_FORMAT } from "./sibling-record.js";

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

test("a format-2 record whose set does not parse is an assertion on both paths (format 2 is still read)", () => {
  const broken = packr.pack([2, { entries: "no", anonymous: [] }]);
  assert.throws(() => decodeSiblingRecordIfAny(broken), /sibling record/);
  assert.throws(() => decodeSiblingRecord(broken), /sibling record/);
  assert.throws(() => decodeSiblingRecordIfAny(packr.pack([2, set, "extra"])), /pair/);
});

/** Format 4 as packr would write it from positional arrays: the hand-written encoder must give valid MessagePack of this. */
function positional(value: dvvset.DottedVersionVectorSet<Sibling>): unknown[] {
  const fields = (s: Sibling): unknown[] => [s.value, s.contentType, s.metadata, s.timestamp, s.tombstone, s.expiresAtMs];
  return [SIBLING_RECORD_FORMAT, value.entries.map(([nodeId, counter, values]) => [nodeId, counter, values.map(fields)]), value.anonymous.map(fields)];
}

/** Structural equality as a set compares (byte arrays by their bytes, whatever class unpack gave them). */
function same(actual: unknown, expected: unknown): void {
  assert.equal(comparePlainData(actual, expected), 0, "the two differ structurally");
}

test("records are written in format 4, positional, and a format-2 record of the same set still decodes to it", () => {
  const bytes = encodeSiblingRecord(set);
  assert.equal(SIBLING_RECORD_FORMAT, 4);
  same(packr.unpack(bytes), positional(set));
  const named = packr.pack([2, set]);
  same(decodeSiblingRecord(named), set);
  same(decodeSiblingRecordIfAny(named), set);
  same(decodeSiblingRecord(bytes.slice()), set);
});

test("a 100-byte value's record is about a third smaller in format 4 than in format 2", () => {
  const value: Sibling = { value: new Uint8Array(100).fill(7), contentType: "application/octet-stream", metadata: [], timestamp: 1_765_000_000_000_017, tombstone: false, expiresAtMs: null };
  let history = dvvset.empty<Sibling>();
  for (const node of ["node-0:1", "node-1:1", "node-2:1"]) history = dvvset.update(dvvset.newWithContext(dvvset.join(history), value), history, node);
  const named = packr.pack([2, history]).length;
  const written = encodeSiblingRecord(history).length;
  assert.ok(written <= named * 0.75, `format 4 took ${written} bytes, format 2 ${named}`);
});

const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: "grapheme", maxLength: 40 }), fc.string({ minLength: 200, maxLength: 300 }));
const siblingArb: fc.Arbitrary<Sibling> = fc.record({
  value: fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.constant(new Uint8Array(70_000).fill(1))),
  contentType: text,
  metadata: fc.uniqueArray(fc.tuple(text, text), { selector: (pair) => pair[0], maxLength: 20 }).map((pairs) => pairs.sort((a, b) => (a[0] < b[0] ? -1 : 1))),
  timestamp: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 0xffff_ffff }), fc.maxSafeNat()),
  tombstone: fc.boolean(),
  expiresAtMs: fc.oneof(fc.constant(null), fc.maxSafeInteger()),
});
const setArb = fc
  .tuple(
    fc.uniqueArray(fc.tuple(text.filter((id) => id.length > 0), fc.oneof(fc.integer({ min: 1, max: 70_000 }), fc.maxSafeNat().map((n) => Math.max(1, n))), fc.array(siblingArb, { maxLength: 2 })), { selector: (entry) => entry[0], maxLength: 20 }),
    fc.uniqueArray(siblingArb, { maxLength: 2, comparator: (a, b) => comparePlainData(a, b) === 0 }),
  )
  .map(([entries, anonymous]) => ({
    entries: entries.sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([nodeId, counter, values]) => [nodeId, Math.max(counter, values.length), values] as const),
    anonymous: anonymous.sort(comparePlainData),
  }));

test("any set's format-4 bytes are the MessagePack of its positional form and decode (from a copy) to the set", () => {
  fc.assert(
    fc.property(setArb, (drawn) => {
      assert.ok(dvvset.parse(drawn, isSibling).ok, "the arbitrary draws valid sets");
      const bytes = encodeSiblingRecord(drawn);
      same(packr.unpack(bytes), positional(drawn));
      same(decodeSiblingRecord(bytes.slice()), drawn);
    }),
    { numRuns: 300 },
  );
});

test("a format-4 record that does not parse is an assertion on both paths", () => {
  for (const broken of [packr.pack([4, [["n1", 1, [["not", "six", "fields"]]]], []]), packr.pack([4, [], [[new Uint8Array(1), "t", [], -1, false, null]]]), packr.pack([4, "no", []]), packr.pack([4, []])]) {
    assert.throws(() => decodeSiblingRecordIfAny(broken), /sibling record/);
    assert.throws(() => decodeSiblingRecord(broken), /sibling record/);
  }
});

test("records share chunks as views, and a record's bytes never change when later records are written", () => {
  const first = encodeSiblingRecord(set);
  const kept = first.slice();
  const big: Sibling = { ...sibling("y"), value: new Uint8Array(20_000).fill(9) };
  const later = [dvvset.update(dvvset.newValue(big), dvvset.empty<Sibling>(), "n2"), ...Array.from({ length: 500 }, (_, i) => dvvset.update(dvvset.newValue(sibling(`v${i}`)), dvvset.empty<Sibling>(), "n3"))];
  const records = later.map((each) => encodeSiblingRecord(each));
  assert.deepEqual(first, kept);
  records.forEach((bytes, i) => same(decodeSiblingRecord(bytes.slice()), later[i]));
});
