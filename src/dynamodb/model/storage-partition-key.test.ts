import { test } from "node:test";
import assert from "node:assert/strict";
import { keyBytes } from "./key-bytes.js";
import { digestMarker, isDigestPartitionKey, storagePartitionKey, storedPartitionKeyBytesMax } from "./storage-partition-key.js";

test("short S, N and B keys are stored as they are; long ones as a 33-byte digest", () => {
  for (const value of [{ S: "cart:42" }, { N: "-12.5" }, { B: Uint8Array.of(0, 1, 2) }, { S: "x".repeat(storedPartitionKeyBytesMax) }]) {
    const bytes = keyBytes(value);
    assert.equal(storagePartitionKey(bytes), bytes);
  }
  const long = keyBytes({ S: "x".repeat(storedPartitionKeyBytesMax + 1) });
  const digest = storagePartitionKey(long);
  assert.equal(digest.length, 33);
  assert.equal(digest[0], digestMarker);
  assert.ok(isDigestPartitionKey(digest));
  assert.deepEqual(storagePartitionKey(keyBytes({ S: "x".repeat(storedPartitionKeyBytesMax + 1) })), digest, "deterministic");
  assert.notDeepEqual(storagePartitionKey(keyBytes({ S: "x".repeat(storedPartitionKeyBytesMax) + "y" })), digest);
});

test("NUL bytes count twice toward the threshold (they are escaped in a storage key)", () => {
  const nuls = new Uint8Array(storedPartitionKeyBytesMax / 2 + 1);
  assert.ok(isDigestPartitionKey(storagePartitionKey(nuls)));
  assert.equal(storagePartitionKey(new Uint8Array(storedPartitionKeyBytesMax / 2)).length, storedPartitionKeyBytesMax / 2);
});

test("a short B key starting with the marker is digested too, so it can never equal a long key's digest", () => {
  const long = keyBytes({ B: new Uint8Array(2048).fill(5) });
  const digest = storagePartitionKey(long);
  const forged = storagePartitionKey(digest.slice());
  assert.ok(isDigestPartitionKey(forged));
  assert.notDeepEqual(forged, digest);
  assert.ok(isDigestPartitionKey(storagePartitionKey(Uint8Array.of(0xff))));
  assert.ok(!isDigestPartitionKey(storagePartitionKey(keyBytes({ S: "ÿ" }))), "UTF-8 never starts with 0xFF");
});
