import { test } from "node:test";
import assert from "node:assert/strict";
import { attributeValueSize, checkItemSize, itemSize, numberSize } from "./item-size.js";

test("strings and binaries count their bytes, names included", () => {
  assert.equal(itemSize({ name: { S: "abc" } }), 4 + 3);
  assert.equal(itemSize({ é: { S: "é" } }), 2 + 2);
  assert.equal(itemSize({ b: { B: new Uint8Array(10) } }), 1 + 10);
});

test("numbers count about one byte per two significant digits plus one", () => {
  assert.equal(numberSize("1"), 2);
  assert.equal(numberSize("12"), 2);
  assert.equal(numberSize("123"), 3);
  assert.equal(numberSize("-0.00123"), 3);
  assert.equal(numberSize("1000000"), 2);
});

test("maps and lists carry three bytes plus one per element; BOOL and NULL one byte", () => {
  assert.equal(attributeValueSize({ M: {} }), 3);
  assert.equal(attributeValueSize({ L: [] }), 3);
  assert.equal(attributeValueSize({ L: [{ BOOL: true }, { NULL: true }] }), 3 + 2 * (1 + 1));
  assert.equal(attributeValueSize({ M: { ab: { S: "xyz" } } }), 3 + 2 + 3 + 1);
});

test("sets count their members", () => {
  assert.equal(attributeValueSize({ SS: ["a", "bc"] }), 3);
  assert.equal(attributeValueSize({ NS: ["1", "123"] }), 2 + 3);
  assert.equal(attributeValueSize({ BS: [new Uint8Array(2), new Uint8Array(3)] }), 5);
});

test("an item over 400 KB is refused with DynamoDB's message", () => {
  assert.deepEqual(checkItemSize({ a: { S: "x".repeat(400 * 1024 - 1) } }), { ok: true, value: 400 * 1024 });
  assert.deepEqual(checkItemSize({ ab: { S: "x".repeat(400 * 1024 - 1) } }), {
    ok: false,
    error: { type: "ValidationException", message: "Item size has exceeded the maximum allowed size" },
  });
});
