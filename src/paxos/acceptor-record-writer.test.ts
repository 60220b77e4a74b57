import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { writeAcceptorRecord } from "./acceptor-record-writer.js";
import { decodeAcceptorRecord, decodeAcceptorRecordGeneric, encodeAcceptorRecord, encodeAcceptorRecordGeneric, originsMax, readRecord, type AcceptorRecord } from "./acceptor-record.js";
import type { Ballot } from "./ballot.js";
import type { StrongVersioned } from "./strong-coordinator.js";

// The hand-written acceptor record (acceptor-record-writer.ts) is msgpackr's bytes exactly,
// wherever it writes at all, and hands everything else back to msgpackr.

const ascii = (maxLength: number) => fc.string({ maxLength, unit: fc.integer({ min: 0, max: 0x7f }).map((code) => String.fromCharCode(code)) });
// Every header width: numbers around 0x80, 0x100, 0x10000, 2^32 and up to 2^53; strings and
// values past 31, 255 and 65535 bytes; metadata and origins past 15 entries (array 16).
const uintArb = fc.oneof(fc.nat({ max: 0x1ff }), fc.nat({ max: 0x1_ffff }), fc.integer({ min: 0xffff_fff0, max: 0x1_0000_0010 }), fc.maxSafeNat());
const longAscii = fc.oneof(ascii(40), ascii(300), fc.constant("x".repeat(70_000)));
const ballotArb: fc.Arbitrary<Ballot> = fc.oneof(
  fc.record({ counter: uintArb, node: ascii(40) }, { noNullPrototype: true }),
  fc.record({ epoch: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), counter: uintArb, node: ascii(8) }, { noNullPrototype: true }),
);
const valueArb: fc.Arbitrary<StrongVersioned> = fc.record({
  value: fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.constant(new Uint8Array(70_000).fill(7))),
  contentType: longAscii,
  metadata: fc.array(fc.tuple(ascii(8), ascii(40)), { maxLength: 9 }),
  expiresAtMs: fc.option(uintArb, { nil: null }),
  timestamp: uintArb,
  version: ascii(40),
}, { noNullPrototype: true });
const recordArb: fc.Arbitrary<AcceptorRecord> = fc.record({
  promised: ballotArb,
  accepted: fc.option(
    fc.record({ ballot: ballotArb, value: fc.option(valueArb, { nil: undefined }), acceptedAtMs: uintArb, origins: fc.array(ballotArb, { maxLength: originsMax }), originsFloor: ballotArb }, { noNullPrototype: true }),
    { nil: undefined },
  ),
}, { noNullPrototype: true });

test("the hand writer gives msgpackr's bytes for every record of ASCII strings and non-negative integers", () => {
  fc.assert(
    fc.property(recordArb, (record) => {
      const written = writeAcceptorRecord(record);
      assert.ok(written !== undefined, "inside the writer's subset");
      assert.deepEqual(Buffer.from(written), Buffer.from(encodeAcceptorRecordGeneric(record)));
      assert.deepEqual(readRecord(written), record);
      assert.deepEqual(decodeAcceptorRecordGeneric(written), record);
    }),
    { numRuns: 300, seed: 8 },
  );
});

test("sixteen origins (array 16) and a value of 65536 bytes (bin 32) are written as msgpackr writes them", () => {
  const ballot = (counter: number): Ballot => ({ counter, node: `n${counter}` });
  const record: AcceptorRecord = {
    promised: ballot(99),
    accepted: {
      ballot: ballot(99),
      value: { value: new Uint8Array(65_536).fill(1), contentType: "c", metadata: [], expiresAtMs: null, timestamp: 2 ** 40, version: "v" },
      acceptedAtMs: 1_796_000_000_000,
      origins: Array.from({ length: originsMax }, (_, i) => ballot(i + 1)),
      originsFloor: ballot(0),
    },
  };
  assert.deepEqual(Buffer.from(writeAcceptorRecord(record)!), Buffer.from(encodeAcceptorRecordGeneric(record)));
});

test("outside its subset the writer hands the record to msgpackr, and encodeAcceptorRecord still round-trips", () => {
  const base: AcceptorRecord = { promised: { counter: 1, node: "n1" }, accepted: { ballot: { counter: 1, node: "n1" }, value: { value: Uint8Array.of(1), contentType: "t", metadata: [], expiresAtMs: null, timestamp: 5, version: "v" }, acceptedAtMs: 3, origins: [], originsFloor: { counter: 0, node: "" } } };
  const outside: AcceptorRecord[] = [
    { ...base, promised: { counter: 1, node: "nœud" } },
    { ...base, accepted: { ...base.accepted!, acceptedAtMs: -4 } },
    { ...base, accepted: { ...base.accepted!, value: { ...base.accepted!.value!, version: "\ud800" } } },
    { ...base, accepted: { ...base.accepted!, value: { ...base.accepted!.value!, metadata: [["é", "x"]] } } },
  ];
  for (const record of outside) {
    assert.equal(writeAcceptorRecord(record), undefined);
    const bytes = encodeAcceptorRecord(record);
    assert.deepEqual(Buffer.from(bytes), Buffer.from(encodeAcceptorRecordGeneric(record)));
    assert.deepEqual(decodeAcceptorRecord(bytes), decodeAcceptorRecordGeneric(bytes));
  }
  assert.deepEqual(decodeAcceptorRecord(writeAcceptorRecord(base)!), base);
});

test("the writer refuses a malformed value as msgpackr's path does", () => {
  const value = { value: "not bytes", contentType: "t", metadata: [], expiresAtMs: null, timestamp: 5, version: "v" } as unknown as StrongVersioned;
  const record: AcceptorRecord = { promised: { counter: 1, node: "n1" }, accepted: { ballot: { counter: 1, node: "n1" }, value, acceptedAtMs: 3, origins: [], originsFloor: { counter: 0, node: "" } } };
  assert.throws(() => writeAcceptorRecord(record), /value is not bytes/);
  assert.throws(() => encodeAcceptorRecordGeneric(record), /value is not bytes/);
});

test("a bare promise with a node id outside ASCII goes to msgpackr too", () => {
  const record: AcceptorRecord = { promised: { counter: 36, node: "邏\f" }, accepted: undefined };
  assert.equal(writeAcceptorRecord(record), undefined);
  assert.deepEqual(decodeAcceptorRecord(encodeAcceptorRecord(record)), record);
});
