import { test } from "node:test";
import assert from "node:assert/strict";
import { parseExpressionAttributeNames, parseExpressionAttributeValues } from "./expression-attribute-values.js";

test("values parse into typed attribute values", () => {
  assert.deepEqual(parseExpressionAttributeValues({ ":a": { N: "01" }, ":b": { S: "x" } }), { ok: true, value: { ":a": { N: "1" }, ":b": { S: "x" } } });
});

test("a value key without a colon is refused", () => {
  const result = parseExpressionAttributeValues({ a: { S: "x" } });
  assert.equal(result.ok ? "" : result.error.message, 'ExpressionAttributeValues contains invalid key: Syntax error; key: "a"');
});

test("an invalid value is refused naming its key", () => {
  const result = parseExpressionAttributeValues({ ":s": { SS: [] } });
  assert.equal(result.ok ? "" : result.error.message, "ExpressionAttributeValues contains invalid value: One or more parameter values were invalid: An string set  may not be empty for key :s");
});

test("name keys must start with # and names must not be empty", () => {
  assert.deepEqual(parseExpressionAttributeNames({ "#a": "a.b" }), { ok: true, value: { "#a": "a.b" } });
  const badKey = parseExpressionAttributeNames({ a: "a" });
  assert.equal(badKey.ok ? "" : badKey.error.message, 'ExpressionAttributeNames contains invalid key: Syntax error; key: "a"');
  assert.equal(parseExpressionAttributeNames({ "#a": "" }).ok, false);
  assert.equal(parseExpressionAttributeNames({ "#a": 5 }).ok ? "" : "SerializationException", "SerializationException");
});
