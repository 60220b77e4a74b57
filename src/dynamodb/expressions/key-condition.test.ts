import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { AttributeValue } from "../model/attribute-value.js";
import { compareBytes } from "../../storage/byte-order.js";
import { normalizeNumber } from "../model/dynamo-number.js";
import { dynamoNumberText } from "../model/dynamo-number-arbitrary.js";
import { keyBytes } from "../model/key-bytes.js";
import { compileExpressions } from "./compile-expressions.js";
import { sortKeyMatches, type KeyCondition, type KeySchema } from "./key-condition.js";

const schema: KeySchema = { partitionKey: "pk", sortKey: "sk", partitionKeyType: "S", sortKeyType: "N" };
const values: Record<string, AttributeValue> = { ":p": { S: "user" }, ":a": { N: "1" }, ":b": { N: "5" }, ":s": { S: "x" } };

function usedValues(expression: string): Record<string, AttributeValue> {
  return Object.fromEntries(Object.entries(values).filter(([name]) => new RegExp(`${name}(?![a-zA-Z0-9_])`).test(expression)));
}

function keyCondition(expression: string, keySchema: KeySchema = schema): KeyCondition {
  const result = compileExpressions({ keyConditionExpression: expression, keySchema, expressionAttributeValues: usedValues(expression) });
  assert.ok(result.ok, result.ok ? "" : result.error.message);
  return result.value.keyCondition!;
}

function refusal(expression: string, keySchema: KeySchema = schema): string {
  const result = compileExpressions({ keyConditionExpression: expression, keySchema, expressionAttributeValues: usedValues(expression) });
  assert.equal(result.ok, false, `expected ${expression} to be refused`);
  return result.ok ? "" : result.error.message;
}

test("a partition key equality alone", () => {
  assert.deepEqual(keyCondition("pk = :p"), { partitionKeyName: "pk", partitionValue: { S: "user" } });
});

test("each sort key operator becomes a structured condition", () => {
  assert.deepEqual(keyCondition("pk = :p AND sk < :a").sort, { name: "sk", op: "<", values: [{ N: "1" }] });
  assert.deepEqual(keyCondition("sk >= :a AND pk = :p").sort, { name: "sk", op: ">=", values: [{ N: "1" }] });
  assert.deepEqual(keyCondition("pk = :p AND sk BETWEEN :a AND :b").sort, { name: "sk", op: "between", values: [{ N: "1" }, { N: "5" }] });
  assert.deepEqual(keyCondition("pk = :p AND (sk = :a)").sort, { name: "sk", op: "=", values: [{ N: "1" }] });
  const strings: KeySchema = { partitionKey: "pk", sortKey: "sk" };
  assert.deepEqual(keyCondition("pk = :p AND begins_with(sk, :s)", strings).sort, { name: "sk", op: "begins_with", values: [{ S: "x" }] });
});

test("a value on the left flips the comparison", () => {
  assert.deepEqual(keyCondition("pk = :p AND :a < sk").sort, { name: "sk", op: ">", values: [{ N: "1" }] });
});

test("placeholder names work for key attributes", () => {
  const result = compileExpressions({ keyConditionExpression: "#k = :p", keySchema: schema, expressionAttributeNames: { "#k": "pk" }, expressionAttributeValues: { ":p": { S: "user" } } });
  assert.ok(result.ok && result.value.keyCondition?.partitionKeyName === "pk");
});

test("OR, NOT, IN, <> and other functions are refused", () => {
  assert.equal(refusal("pk = :p OR sk = :a"), "Invalid operator used in KeyConditionExpression: OR");
  assert.equal(refusal("NOT pk = :p"), "Invalid operator used in KeyConditionExpression: NOT");
  assert.equal(refusal("pk IN (:p)"), "Invalid operator used in KeyConditionExpression: IN");
  assert.equal(refusal("pk = :p AND attribute_exists(sk)"), "Invalid operator used in KeyConditionExpression: attribute_exists");
  assert.equal(refusal("pk = :p AND sk <> :a"), "Unsupported operator on KeyCondition: <>");
});

test("the partition key must be there, with =", () => {
  assert.equal(refusal("sk = :a"), "Query condition missed key schema element: pk");
  assert.equal(refusal("pk < :p"), "Query key condition not supported");
});

test("one condition per key, and only key attributes", () => {
  assert.equal(refusal("pk = :p AND sk > :a AND sk < :b"), "KeyConditionExpressions must only contain one condition per key");
  assert.equal(refusal("pk = :p AND extra = :a"), "Query condition missed key schema element: sk");
  assert.equal(refusal("pk = :p AND extra = :a", { partitionKey: "pk" }), "Query key condition not supported");
});

test("values must have the key's declared type", () => {
  assert.equal(refusal("pk = :p AND sk = :s"), "One or more parameter values were invalid: Condition parameter type does not match schema type");
});

test("sortKeyMatches applies each operator", () => {
  const n = (v: string): AttributeValue => ({ N: v });
  assert.equal(sortKeyMatches({ op: "<", values: [n("5")] }, n("4.9")), true);
  assert.equal(sortKeyMatches({ op: "<=", values: [n("5")] }, n("5")), true);
  assert.equal(sortKeyMatches({ op: ">", values: [n("5")] }, n("5")), false);
  assert.equal(sortKeyMatches({ op: "between", values: [n("1"), n("5")] }, n("5")), true);
  assert.equal(sortKeyMatches({ op: "between", values: [n("1"), n("5")] }, n("6")), false);
  assert.equal(sortKeyMatches({ op: "begins_with", values: [{ S: "ab" }] }, { S: "abc" }), true);
  assert.equal(sortKeyMatches({ op: "=", values: [n("1")] }, { S: "1" }), false);
});

test("law: a sort key condition on numbers selects exactly the key-byte range a scan would read", () => {
  const number = dynamoNumberText.map((text) => {
    const result = normalizeNumber(text);
    assert.ok(result.ok);
    return { N: result.value } as AttributeValue;
  });
  const ops = ["=", "<", "<=", ">", ">="] as const;
  fc.assert(
    fc.property(number, number, fc.constantFrom(...ops), (bound, value, op) => {
      const order = compareBytes(keyBytes(value), keyBytes(bound));
      const byBytes = { "=": order === 0, "<": order < 0, "<=": order <= 0, ">": order > 0, ">=": order >= 0 }[op];
      assert.equal(sortKeyMatches({ op, values: [bound] }, value), byBytes);
    }),
    { numRuns: 200, seed: 71 },
  );
});
