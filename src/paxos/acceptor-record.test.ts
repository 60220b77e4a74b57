import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Packr } from "msgpackr";
import { encodeSiblingRecord } from "../replica/sibling-record.js";
import { encodeRecord } from "../storage/record.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import { decodeAcceptedValue, decodeAcceptorRecord, encodeAcceptorRecord, isAcceptorRecord, originsMax, type AcceptorRecord } from "./acceptor-record.js";
import type { Ballot } from "./ballot.js";
import type { StrongVersioned } from "./strong-coordinator.js";

// The acceptor's stored record (format 3): it round-trips, names its format, and is told
// apart from the other record formats a scan of the items namespace can meet.

const ballotArb: fc.Arbitrary<Ballot> = fc.record({ counter: fc.nat(), node: fc.string({ maxLength: 8 }) }, { noNullPrototype: true });
const valueArb: fc.Arbitrary<StrongVersioned> = fc.record({
  value: fc.uint8Array({ maxLength: 32 }),
  contentType: fc.string({ maxLength: 16 }),
  metadata: fc.array(fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 })), { maxLength: 3 }),
  expiresAtMs: fc.option(fc.nat(), { nil: null }),
  timestamp: fc.nat(),
  version: fc.string({ maxLength: 16 }),
}, { noNullPrototype: true });
const recordArb: fc.Arbitrary<AcceptorRecord> = fc.record({
  promised: ballotArb,
  accepted: fc.option(
    fc.record({
      ballot: ballotArb,
      value: fc.option(valueArb, { nil: undefined }),
      acceptedAtMs: fc.nat(),
      origins: fc.array(ballotArb, { maxLength: originsMax }),
      originsFloor: ballotArb,
    }, { noNullPrototype: true }),
    { nil: undefined },
  ),
}, { noNullPrototype: true });

test("an acceptor record survives encode and decode", () => {
  fc.assert(
    fc.property(recordArb, (record) => {
      const bytes = encodeAcceptorRecord(record);
      assert.ok(isAcceptorRecord(bytes));
      assert.deepEqual(decodeAcceptorRecord(bytes), record);
      assert.deepEqual(decodeAcceptedValue(bytes), record.accepted?.value);
    }),
    { numRuns: 150, seed: 3 },
  );
});

test("a tombstone and a bare promise hold no accepted value", () => {
  const tombstone = encodeAcceptorRecord({ promised: { counter: 2, node: "n1" }, accepted: { ballot: { counter: 2, node: "n1" }, value: undefined, acceptedAtMs: 1, origins: [], originsFloor: { counter: 0, node: "" } } });
  assert.equal(decodeAcceptedValue(tombstone), undefined);
  assert.equal(decodeAcceptedValue(encodeAcceptorRecord({ promised: { counter: 1, node: "n1" }, accepted: undefined })), undefined);
});

test("records of the other formats are not taken for acceptor records", () => {
  const single = encodeRecord({ value: new Uint8Array(1), contentType: "x", metadata: {}, timestamp: 1, version: "v", tombstone: false, expiresAtMs: null });
  const siblings = encodeSiblingRecord(dvvset.empty());
  assert.equal(isAcceptorRecord(single), false);
  assert.equal(isAcceptorRecord(siblings), false);
  assert.throws(() => decodeAcceptorRecord(siblings), /acceptor record/);
  const futureFormat = new Packr({ useRecords: false }).pack([4, [1, "n"], null, null, null, [], [0, ""]]);
  assert.throws(() => decodeAcceptorRecord(futureFormat), /format 4/);
});
