import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { ShoalError } from "../errors.js";
import { decodeCursor, encodeCursor } from "./list-cursor.js";

const options = { keyBytesMax: 64, prefix: new Uint8Array(0) };

test("a cursor decodes to the key it was made from", () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (key) => {
      assert.deepEqual(decodeCursor(encodeCursor(key), options), { partitionKey: key });
    }),
    { numRuns: 200, seed: 11 },
  );
});

test("a cursor with a sort key decodes to both parts, however the bytes split", () => {
  const part = fc.uint8Array({ minLength: 1, maxLength: 64 });
  fc.assert(
    fc.property(part, part, (partitionKey, sortKey) => {
      assert.deepEqual(decodeCursor(encodeCursor({ partitionKey, sortKey }), options), { partitionKey, sortKey });
    }),
    { numRuns: 200, seed: 13 },
  );
});

test("any other string is refused as InvalidCursor, never accepted or crashing", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 100 }), (text) => {
      try {
        const key = decodeCursor(text, options);
        assert.equal(encodeCursor(key), text, "only canonical cursors decode");
      } catch (error) {
        assert.ok(error instanceof ShoalError && error.code === "InvalidCursor", String(error));
      }
    }),
    { numRuns: 300, seed: 12 },
  );
});

test("a cursor outside the requested prefix or past the key limit is refused", () => {
  const cursor = encodeCursor(Buffer.from("user/7"));
  assert.deepEqual(decodeCursor(cursor, { keyBytesMax: 64, prefix: Buffer.from("user/") }), { partitionKey: new Uint8Array(Buffer.from("user/7")) });
  assert.throws(() => decodeCursor(cursor, { keyBytesMax: 64, prefix: Buffer.from("admin/") }), /another prefix/);
  assert.throws(() => decodeCursor(encodeCursor(new Uint8Array(65)), options), /InvalidCursor|cursor/);
  assert.throws(() => decodeCursor(encodeCursor({ partitionKey: new Uint8Array(3), sortKey: new Uint8Array(65) }), options), /sort key of 65 bytes/);
  assert.throws(() => decodeCursor(Buffer.from([2, 0, 9, 1, 2]).toString("base64url"), options), /truncated/);
});
