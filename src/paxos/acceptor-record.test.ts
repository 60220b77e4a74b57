import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Packr } from "msgpackr";
import { encodeSiblingRecord } from "../replica/sibling-record.js";
import { encodeRecord } from "../storage/record.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import { decodeAcceptedValue, decodeAcceptorRecord, decodeAcceptorRecordGeneric, decodeAcceptorRecordHead, encodeAcceptorRecord, readRecord, isAcceptorRecord, originsMax, type AcceptorRecord } from "./acceptor-record.js";
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

// Wider than above: counters and timestamps past 32 bits (MessagePack uint64 or float64),
// epochs, strings past 31 and 255 bytes and not ASCII, values past 255 bytes.
const wideBallotArb: fc.Arbitrary<Ballot> = fc.oneof(
  fc.record({ counter: fc.maxSafeNat(), node: fc.string({ maxLength: 40, unit: "binary" }) }, { noNullPrototype: true }),
  fc.record({ epoch: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), counter: fc.maxSafeNat(), node: fc.string({ maxLength: 8 }) }, { noNullPrototype: true }),
);
const wideValueArb: fc.Arbitrary<StrongVersioned> = fc.record({
  value: fc.uint8Array({ maxLength: 700 }),
  contentType: fc.string({ maxLength: 300, unit: "binary" }),
  metadata: fc.array(fc.tuple(fc.string({ maxLength: 40 }), fc.string({ maxLength: 40, unit: "binary" })), { maxLength: 3 }),
  expiresAtMs: fc.option(fc.maxSafeNat(), { nil: null }),
  timestamp: fc.maxSafeNat(),
  version: fc.string({ maxLength: 40 }),
}, { noNullPrototype: true });
const wideRecordArb: fc.Arbitrary<AcceptorRecord> = fc.record({
  promised: wideBallotArb,
  accepted: fc.option(
    fc.record({ ballot: wideBallotArb, value: fc.option(wideValueArb, { nil: undefined }), acceptedAtMs: fc.maxSafeNat(), origins: fc.array(wideBallotArb, { maxLength: originsMax }), originsFloor: wideBallotArb }, { noNullPrototype: true }),
    { nil: undefined },
  ),
}, { noNullPrototype: true });

test("the record reader decodes exactly what msgpackr decodes, and fails where it fails", () => {
  fc.assert(
    fc.property(wideRecordArb, fc.nat(), (record, cut) => {
      const bytes = encodeAcceptorRecord(record);
      assert.deepEqual(readRecord(bytes), record, "the fast reader takes every record this node writes");
      assert.deepEqual(decodeAcceptorRecord(bytes), decodeAcceptorRecordGeneric(bytes));
      // A plain Uint8Array inside a larger buffer reads the same.
      const padded = new Uint8Array(bytes.length + 8);
      padded.set(bytes, 4);
      assert.deepEqual(readRecord(padded.subarray(4, 4 + bytes.length)), record);
      // Cut short or run on: the same outcome as the generic decoder.
      for (const damaged of [bytes.subarray(0, cut % bytes.length), Buffer.concat([bytes, Uint8Array.of(0)])]) {
        const outcome = (decode: (b: Uint8Array) => AcceptorRecord) => {
          try {
            return { ok: true, record: decode(damaged) };
          } catch (error) {
            return { ok: false, message: (error as Error).message };
          }
        };
        assert.deepEqual(outcome(decodeAcceptorRecord), outcome(decodeAcceptorRecordGeneric));
      }
    }),
    { numRuns: 200, seed: 5 },
  );
});

test("the head reader gives the record's two ballots for every record this node writes, and refuses what a full decode refuses", () => {
  const headOf = (record: AcceptorRecord) => ({ promised: record.promised, acceptedBallot: record.accepted?.ballot });
  fc.assert(
    fc.property(wideRecordArb, (record) => {
      const bytes = encodeAcceptorRecord(record);
      assert.deepEqual(decodeAcceptorRecordHead(bytes), headOf(record));
      const padded = new Uint8Array(bytes.length + 8);
      padded.set(bytes, 4);
      assert.deepEqual(decodeAcceptorRecordHead(padded.subarray(4, 4 + bytes.length)), headOf(record));
    }),
    { numRuns: 200, seed: 7 },
  );
  // Bytes the fast reader does not take are decoded whole: the same error as a full decode.
  assert.throws(() => decodeAcceptorRecordHead(Uint8Array.of(0x92, 1, 2)), /seven-field/);
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
