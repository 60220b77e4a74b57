import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { compareBytes, concatBytes, prefixEnd, startsWith } from "./byte-order.js";

const runs = { seed: 20241122, numRuns: 200 };
const bytes = fc.array(fc.oneof(fc.constantFrom(0x00, 0xff), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }).map((b) => Uint8Array.from(b));

test("compareBytes is unsigned lexicographic order with shorter prefixes first", () => {
  assert.ok(compareBytes(Uint8Array.of(0x7f), Uint8Array.of(0x80)) < 0);
  assert.ok(compareBytes(Uint8Array.of(0x01), Uint8Array.of(0x01, 0x00)) < 0);
  assert.ok(compareBytes(Uint8Array.of(0xff), Uint8Array.of(0x00, 0xff)) > 0);
  assert.equal(compareBytes(new Uint8Array(0), new Uint8Array(0)), 0);
  fc.assert(
    fc.property(bytes, bytes, (a, b) => {
      assert.equal(Math.sign(compareBytes(a, b)), Math.sign(Buffer.compare(a, b)));
    }),
    runs,
  );
});

test("prefixEnd is above every key with the prefix and at or below every greater key without it", () => {
  fc.assert(
    fc.property(bytes, bytes, (prefix, key) => {
      const end = prefixEnd(prefix);
      if (startsWith(key, prefix)) {
        assert.ok(end === undefined || compareBytes(key, end) < 0);
      } else if (compareBytes(key, prefix) > 0) {
        assert.ok(end !== undefined && compareBytes(key, end) >= 0);
      }
    }),
    runs,
  );
});

test("prefixEnd carries past 0xFF bytes and has no answer for an all-0xFF or empty prefix", () => {
  assert.deepEqual(prefixEnd(Uint8Array.of(0x01, 0xff, 0xff)), Uint8Array.of(0x02));
  assert.deepEqual(prefixEnd(Uint8Array.of(0x01, 0x02)), Uint8Array.of(0x01, 0x03));
  assert.equal(prefixEnd(Uint8Array.of(0xff, 0xff)), undefined);
  assert.equal(prefixEnd(new Uint8Array(0)), undefined);
});

test("concatBytes joins parts in order", () => {
  assert.deepEqual(concatBytes([Uint8Array.of(1), new Uint8Array(0), Uint8Array.of(2, 3)]), Uint8Array.of(1, 2, 3));
});

test("prefixEnd leaves the prefix alone, also when it is a Node Buffer (what msgpackr decodes)", () => {
  const prefix = Buffer.from([0x01, 0x00, 0x00, 0x00, 0x07, 0x61]);
  const end = prefixEnd(prefix);
  assert.deepEqual([...prefix], [0x01, 0x00, 0x00, 0x00, 0x07, 0x61]);
  assert.deepEqual([...end!], [0x01, 0x00, 0x00, 0x00, 0x07, 0x62]);
});
