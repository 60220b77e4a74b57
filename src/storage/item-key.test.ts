import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { AssertionError } from "../assert.js";
import { compareBytes, startsWith } from "./byte-order.js";
import { ITEM_KEY_ENCODED_BYTES_MAX, decodeItemKey, encodeItemKey, encodedItemKeyLength, itemKeyPrefix, itemKeyTableId, itemPartitionKey, partitionItemsPrefix, tableItemsPrefix } from "./item-key.js";
import { expiryIndexKey } from "./keyspace.js";
import { STORAGE_KEY_BYTES_MAX } from "./write-ops.js";

const SEED = 20241122;
const runs = { seed: SEED, numRuns: 200 };

// Bytes biased toward 0x00, 0x01 and 0xFF, the values the escaping has to get right.
const keyByte = fc.oneof(fc.constantFrom(0x00, 0x01, 0xff, 0xfe), fc.integer({ min: 0, max: 255 }));
const keyBytes = (maxLength: number) => fc.array(keyByte, { maxLength }).map((bytes) => Uint8Array.from(bytes));
const tableId = fc.oneof(fc.constantFrom(0, 1, 0xffff_ffff), fc.integer({ min: 0, max: 0xffff_ffff }));
const itemTuple = fc.record({
  tableId: fc.oneof(tableId, fc.constantFrom(7)),
  partitionKey: keyBytes(12),
  sortKey: fc.option(keyBytes(12).filter((b) => b.length > 0), { nil: undefined }),
});

type ItemTuple = { tableId: number; partitionKey: Uint8Array; sortKey?: Uint8Array | undefined };

function compareTuples(a: ItemTuple, b: ItemTuple): number {
  if (a.tableId !== b.tableId) return a.tableId - b.tableId;
  const partition = compareBytes(a.partitionKey, b.partitionKey);
  if (partition !== 0) return partition;
  return compareBytes(a.sortKey ?? new Uint8Array(0), b.sortKey ?? new Uint8Array(0));
}

test("an item key decodes to the table, partition key and sort key it was encoded from", () => {
  fc.assert(
    fc.property(itemTuple, (tuple) => {
      const decoded = decodeItemKey(encodeItemKey(tuple.tableId, tuple.partitionKey, tuple.sortKey));
      const expected = { tableId: tuple.tableId, partitionKey: tuple.partitionKey, ...(tuple.sortKey === undefined ? {} : { sortKey: tuple.sortKey }) };
      assert.deepEqual(decoded, expected);
    }),
    runs,
  );
});

test("encoded item keys sort like their (table, partition key, sort key) tuples", () => {
  fc.assert(
    fc.property(itemTuple, itemTuple, (a, b) => {
      const encodedOrder = compareBytes(encodeItemKey(a.tableId, a.partitionKey, a.sortKey), encodeItemKey(b.tableId, b.partitionKey, b.sortKey));
      assert.equal(Math.sign(encodedOrder), Math.sign(compareTuples(a, b)));
    }),
    runs,
  );
});

test("a partition key sorts before a longer partition key it is a prefix of, whatever the sort keys", () => {
  const shorter = encodeItemKey(1, Uint8Array.of(0x61), Uint8Array.of(0xff, 0xff));
  for (const next of [0x00, 0x01, 0x02, 0xff]) {
    const longer = encodeItemKey(1, Uint8Array.of(0x61, next), Uint8Array.of(0x00));
    assert.ok(compareBytes(shorter, longer) < 0, `"a" must sort before "a" + 0x${next.toString(16)}`);
  }
});

test("the prefix of a raw partition-key prefix matches exactly the items whose partition key starts with it", () => {
  fc.assert(
    fc.property(itemTuple, keyBytes(4), (tuple, rawPrefix) => {
      const key = encodeItemKey(tuple.tableId, tuple.partitionKey, tuple.sortKey);
      assert.equal(startsWith(key, itemKeyPrefix(tuple.tableId, rawPrefix)), startsWith(tuple.partitionKey, rawPrefix));
      assert.equal(startsWith(key, itemKeyPrefix((tuple.tableId + 1) % 2 ** 32, rawPrefix)), false);
    }),
    runs,
  );
});

test("the partition prefix matches every sort key of that partition key and no other partition key", () => {
  fc.assert(
    fc.property(itemTuple, keyBytes(12), (tuple, otherPartition) => {
      const key = encodeItemKey(tuple.tableId, tuple.partitionKey, tuple.sortKey);
      assert.ok(startsWith(key, partitionItemsPrefix(tuple.tableId, tuple.partitionKey)));
      assert.ok(startsWith(key, tableItemsPrefix(tuple.tableId)));
      const samePartition = compareBytes(otherPartition, tuple.partitionKey) === 0;
      assert.equal(startsWith(key, partitionItemsPrefix(tuple.tableId, otherPartition)), samePartition);
    }),
    runs,
  );
});

test("an empty sort key encodes like an absent one", () => {
  const partitionKey = Uint8Array.of(1, 2);
  assert.deepEqual(encodeItemKey(3, partitionKey, new Uint8Array(0)), encodeItemKey(3, partitionKey));
  assert.equal(decodeItemKey(encodeItemKey(3, partitionKey)).sortKey, undefined);
});

test("decoding refuses bytes that are not an item key", () => {
  const valid = encodeItemKey(9, Uint8Array.of(0x00, 0x41), Uint8Array.of(0x00));
  const wrongNamespace = Uint8Array.from(valid);
  wrongNamespace[0] = 0x02;
  const noTerminator = valid.slice(0, 5 + 4);
  const strayZeroInSortKey = Uint8Array.of(...valid, 0x00, 0x05);
  const trailingZero = Uint8Array.of(...valid, 0x00);
  for (const bytes of [wrongNamespace, noTerminator, strayZeroInSortKey, trailingZero, new Uint8Array(0)]) {
    assert.throws(() => decodeItemKey(bytes), AssertionError);
  }
});

test("a table id outside u32 is refused", () => {
  for (const tableId of [-1, 2 ** 32, 1.5, Number.NaN]) {
    assert.throws(() => encodeItemKey(tableId, Uint8Array.of(1)), AssertionError);
    assert.throws(() => tableItemsPrefix(tableId), AssertionError);
  }
});

test("encodedItemKeyLength predicts the encoded length without encoding", () => {
  fc.assert(
    fc.property(itemTuple, (tuple) => {
      assert.equal(encodedItemKeyLength(tuple.partitionKey, tuple.sortKey), encodeItemKey(tuple.tableId, tuple.partitionKey, tuple.sortKey).length);
    }),
    runs,
  );
});

test("an item key at the encoded maximum still fits the engines with its expiry index entry", () => {
  const partitionKey = new Uint8Array(ITEM_KEY_ENCODED_BYTES_MAX - 7).fill(0x61);
  const itemKey = encodeItemKey(1, partitionKey);
  assert.equal(itemKey.length, ITEM_KEY_ENCODED_BYTES_MAX);
  assert.equal(expiryIndexKey(Number.MAX_SAFE_INTEGER, itemKey).length, STORAGE_KEY_BYTES_MAX);
  // A key of 1024 NUL bytes is within keyBytesMax but not within the encoded maximum.
  assert.ok(encodedItemKeyLength(new Uint8Array(1024)) > ITEM_KEY_ENCODED_BYTES_MAX);
});

test("itemKeyTableId and itemPartitionKey read what decodeItemKey decodes, in place when nothing is escaped", () => {
  fc.assert(
    fc.property(itemTuple, ({ tableId, partitionKey, sortKey }) => {
      const encoded = encodeItemKey(tableId, partitionKey, sortKey);
      const decoded = decodeItemKey(encoded);
      assert.equal(itemKeyTableId(encoded), decoded.tableId);
      const partition = itemPartitionKey(encoded);
      assert.deepEqual(Uint8Array.from(partition), Uint8Array.from(decoded.partitionKey));
      // A key without a 0x00 byte is a view into the encoded key, not a copy.
      if (!partitionKey.includes(0)) assert.equal(partition.buffer, encoded.buffer);
    }),
    runs,
  );
  assert.throws(() => itemKeyTableId(Uint8Array.of(0x02, 0, 0, 0, 1, 0, 1)), AssertionError);
  assert.throws(() => itemPartitionKey(Uint8Array.of(0x02, 0, 0, 0, 1, 0, 1)), AssertionError);
  // No terminator: the full decode refuses it.
  assert.throws(() => itemPartitionKey(Uint8Array.of(0x01, 0, 0, 0, 1, 0x61, 0x62)), AssertionError);
});
