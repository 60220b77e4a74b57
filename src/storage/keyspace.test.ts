import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { AssertionError } from "../assert.js";
import { compareBytes } from "./byte-order.js";
import { encodeItemKey } from "./item-key.js";
import {
  Namespace,
  catalogKey,
  decodeCatalogKey,
  decodeExpiryIndexKey,
  decodeMetaKey,
  expiryIndexBound,
  expiryIndexKey,
  metaKey,
  namespacePrefix,
} from "./keyspace.js";

const runs = { seed: 20241122, numRuns: 200 };
const timeMs = fc.oneof(fc.constantFrom(0, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));
const itemKey = fc
  .tuple(fc.integer({ min: 0, max: 10 }), fc.uint8Array({ maxLength: 8 }))
  .map(([tableId, partitionKey]) => encodeItemKey(tableId, partitionKey));

test("namespaces are distinct single bytes that leave 0x00 and 0xFF free", () => {
  const bytes = Object.values(Namespace);
  assert.equal(new Set(bytes).size, bytes.length);
  for (const byte of bytes) assert.ok(byte > 0x00 && byte < 0xff);
  assert.deepEqual(namespacePrefix(Namespace.catalog), Uint8Array.of(Namespace.catalog));
});

test("an expiry index key decodes to its time and item key", () => {
  fc.assert(
    fc.property(timeMs, itemKey, (expiresAtMs, key) => {
      assert.deepEqual(decodeExpiryIndexKey(expiryIndexKey(expiresAtMs, key)), { expiresAtMs, itemKey: key });
    }),
    runs,
  );
});

test("expiry index keys sort by time first, so the sweep scans in the order items expire", () => {
  fc.assert(
    fc.property(timeMs, itemKey, timeMs, itemKey, (timeA, keyA, timeB, keyB) => {
      const order = compareBytes(expiryIndexKey(timeA, keyA), expiryIndexKey(timeB, keyB));
      const expected = timeA !== timeB ? timeA - timeB : compareBytes(keyA, keyB);
      assert.equal(Math.sign(order), Math.sign(expected));
    }),
    runs,
  );
});

test("the expiry bound separates items expiring before a time from those at or after it", () => {
  fc.assert(
    fc.property(timeMs, timeMs, itemKey, (boundMs, expiresAtMs, key) => {
      const below = compareBytes(expiryIndexKey(expiresAtMs, key), expiryIndexBound(boundMs)) < 0;
      assert.equal(below, expiresAtMs < boundMs);
    }),
    runs,
  );
});

test("expiry times that are negative, fractional or unsafe are refused", () => {
  for (const bad of [-1, 1.5, 2 ** 53, Number.NaN]) {
    assert.throws(() => expiryIndexKey(bad, Uint8Array.of(1)), AssertionError);
  }
});

test("catalog and meta keys round-trip their names and live in their own namespaces", () => {
  fc.assert(
    fc.property(fc.string({ minLength: 1, maxLength: 20, unit: "grapheme" }), (name) => {
      assert.equal(decodeCatalogKey(catalogKey(name)), name);
      assert.equal(decodeMetaKey(metaKey(name)), name);
      assert.equal(catalogKey(name)[0], Namespace.catalog);
      assert.equal(metaKey(name)[0], Namespace.meta);
    }),
    runs,
  );
  assert.throws(() => decodeCatalogKey(metaKey("ring")), AssertionError);
  assert.throws(() => catalogKey(""), AssertionError);
});
