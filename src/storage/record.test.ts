import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Packr } from "msgpackr";
import { AssertionError } from "../assert.js";
import { RECORD_FORMAT, decodeRecord, encodeRecord, type StoredRecord } from "./record.js";

const runs = { seed: 20241122, numRuns: 150 };

const storedRecord: fc.Arbitrary<StoredRecord> = fc.record({
  value: fc.uint8Array({ maxLength: 300 }),
  contentType: fc.string({ maxLength: 40 }),
  metadata: fc
    .array(fc.tuple(fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom("__proto__", "constructor")), fc.string({ maxLength: 20 })), { maxLength: 5 })
    .map((pairs) => Object.fromEntries(pairs)),
  timestamp: fc.oneof(fc.constantFrom(0, Number.MAX_SAFE_INTEGER), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })),
  version: fc.string({ maxLength: 40 }),
  tombstone: fc.boolean(),
  expiresAtMs: fc.option(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), { nil: null }),
});

function record(overrides: Partial<StoredRecord> = {}): StoredRecord {
  return {
    value: Uint8Array.of(1, 2, 3),
    contentType: "application/octet-stream",
    metadata: { owner: "ana" },
    timestamp: 1_700_000_000_000 * 1024 + 5,
    version: "n1:42",
    tombstone: false,
    expiresAtMs: null,
    ...overrides,
  };
}

test("a record decodes to the record it was encoded from", () => {
  fc.assert(
    fc.property(storedRecord, (original) => {
      const decoded = decodeRecord(encodeRecord(original));
      assert.deepEqual(decoded, { ...original, metadata: { ...original.metadata } });
      assert.deepEqual(Object.keys(decoded.metadata), Object.keys(original.metadata));
    }),
    runs,
  );
});

test("a metadata name like __proto__ comes back as plain data, not a prototype", () => {
  const metadata = JSON.parse('{"__proto__":"x","a":"b"}') as Record<string, string>;
  const decoded = decodeRecord(encodeRecord(record({ metadata })));
  assert.equal(Object.getPrototypeOf(decoded.metadata), Object.prototype);
  assert.deepEqual(Object.entries(decoded.metadata), [["__proto__", "x"], ["a", "b"]]);
});

test("values of several MiB and empty values keep every byte", () => {
  const large = new Uint8Array(4 * 1024 * 1024 + 3);
  for (let i = 0; i < large.length; i++) large[i] = (i * 31 + 7) & 0xff;
  assert.deepEqual(decodeRecord(encodeRecord(record({ value: large }))).value, large);
  assert.deepEqual(decodeRecord(encodeRecord(record({ value: new Uint8Array(0) }))).value, new Uint8Array(0));
});

test("decoded values are plain Uint8Arrays", () => {
  assert.equal(decodeRecord(encodeRecord(record())).value.constructor, Uint8Array);
});

test("an unknown record format fails loudly instead of being guessed at", () => {
  const packr = new Packr({ useRecords: false });
  const future = packr.pack([RECORD_FORMAT + 1, Uint8Array.of(1), "text/plain", [], 1, "v", false, null, "more"]);
  assert.throws(() => decodeRecord(future), (error: unknown) => error instanceof AssertionError && /unknown record format 2/.test(error.message));
});

test("bytes that are not a record are refused", () => {
  const packr = new Packr({ useRecords: false });
  const cases = [
    packr.pack({ value: 1 }),
    packr.pack([RECORD_FORMAT, "not bytes", "text/plain", [], 1, "v", false, null]),
    packr.pack([RECORD_FORMAT, Uint8Array.of(1), "text/plain", ["odd"], 1, "v", false, null]),
    packr.pack([RECORD_FORMAT, Uint8Array.of(1), "text/plain", [], -1, "v", false, null]),
    packr.pack([RECORD_FORMAT, Uint8Array.of(1), "text/plain", [], 1, "v", false]),
  ];
  for (const bytes of cases) assert.throws(() => decodeRecord(bytes), AssertionError);
});

test("a malformed record is refused before it is written", () => {
  assert.throws(() => encodeRecord(record({ timestamp: 1.5 })), AssertionError);
  assert.throws(() => encodeRecord(record({ expiresAtMs: -1 })), AssertionError);
  assert.throws(() => encodeRecord(record({ metadata: { n: 1 as unknown as string } })), AssertionError);
});
