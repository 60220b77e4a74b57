import { test } from "node:test";
import assert from "node:assert/strict";
import { normalizeNumber } from "./dynamo-number.js";
import { attributeValueSize, checkItemSize, itemSize, numberSize } from "./item-size.js";

test("strings and binaries count their bytes, names included", () => {
  assert.equal(itemSize({ name: { S: "abc" } }), 4 + 3);
  assert.equal(itemSize({ é: { S: "é" } }), 2 + 2);
  assert.equal(itemSize({ b: { B: new Uint8Array(10) } }), 1 + 10);
});

test("numbers cost what DynamoDB was measured to charge", () => {
  // Literal, bytes: measured at DynamoDB's 400 KB gate (nubo-db/dynamodb-conformance, 2026-08).
  const measured: [string, number][] = [
    ["0", 1], ["1", 2], ["12", 2], ["123", 3], ["1234", 3], ["12345678901234567890123456789012345678", 20], ["0042", 2],
    ["100", 2], ["1010", 3], ["0.0000001", 2], ["1E125", 2], ["1E-100", 2], ["1.5", 3], ["15", 2], ["1.2", 3], ["1.200", 3],
    ["1.234", 4], ["3.14159", 5], ["123456", 4], ["100.5", 4], ["0.15", 2], ["-42", 3], ["-0", 1],
  ];
  for (const [literal, bytes] of measured) {
    const number = normalizeNumber(literal);
    assert.ok(number.ok);
    assert.equal(numberSize(number.value), bytes, literal);
  }
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
  assert.equal(attributeValueSize({ NS: ["-1.5"] }), 4);
  assert.equal(attributeValueSize({ BS: [new Uint8Array(2), new Uint8Array(3)] }), 5);
});

test("an item over 400 KB is refused with DynamoDB's message", () => {
  assert.deepEqual(checkItemSize({ a: { S: "x".repeat(400 * 1024 - 1) } }), { ok: true, value: 400 * 1024 });
  assert.deepEqual(checkItemSize({ ab: { S: "x".repeat(400 * 1024 - 1) } }), {
    ok: false,
    error: { type: "ValidationException", message: "Item size has exceeded the maximum allowed size" },
  });
});
