import { test } from "node:test";
import assert from "node:assert/strict";
import type { AttributeValue } from "../model/attribute-value.js";
import { compileExpressions, type ExpressionInput } from "./compile-expressions.js";

function compiled(input: ExpressionInput) {
  const result = compileExpressions(input);
  assert.ok(result.ok, result.ok ? "" : result.error.message);
  return result.value;
}

function refusal(input: ExpressionInput): string {
  const result = compileExpressions(input);
  assert.equal(result.ok, false, "expected a ValidationException");
  return result.ok ? "" : result.error.message;
}

const n = (value: string): AttributeValue => ({ N: value });
const s = (value: string): AttributeValue => ({ S: value });

test("placeholders are substituted into every expression", () => {
  const result = compiled({
    conditionExpression: "#v < :max",
    updateExpression: "SET #v = #v + :one",
    expressionAttributeNames: { "#v": "version" },
    expressionAttributeValues: { ":max": n("10"), ":one": n("1") },
  });
  assert.deepEqual(result.condition, { kind: "compare", op: "<", left: { kind: "path", path: ["version"] }, right: { kind: "value", value: n("10") } });
  assert.deepEqual(result.update?.actions[0], {
    kind: "set",
    path: ["version"],
    value: { kind: "plus", left: { kind: "path", path: ["version"] }, right: { kind: "value", value: n("1") } },
  });
});

test("an undefined value placeholder is refused with DynamoDB's message", () => {
  assert.equal(
    refusal({ updateExpression: "SET a = :val1", expressionAttributeValues: { ":other": n("1") } }),
    "Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: :val1",
  );
});

test("an undefined name placeholder is refused with DynamoDB's message", () => {
  assert.equal(
    refusal({ conditionExpression: "attribute_exists(#missing)" }),
    "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #missing",
  );
});

test("unused placeholders are refused, names before values", () => {
  assert.equal(
    refusal({ conditionExpression: "a = :a", expressionAttributeValues: { ":a": n("1"), ":x": n("2"), ":y": n("3") } }),
    "Value provided in ExpressionAttributeValues unused in expressions: keys: {:x, :y}",
  );
  assert.equal(
    refusal({ conditionExpression: "a = :a", expressionAttributeNames: { "#n": "n" }, expressionAttributeValues: { ":a": n("1"), ":x": n("2") } }),
    "Value provided in ExpressionAttributeNames unused in expressions: keys: {#n}",
  );
});

test("a placeholder used by any expression of the request counts as used", () => {
  compiled({ conditionExpression: "#a = :a", projectionExpression: "#b", expressionAttributeNames: { "#a": "a", "#b": "b" }, expressionAttributeValues: { ":a": n("1") } });
});

test("empty placeholder maps and maps without expressions are refused", () => {
  assert.equal(refusal({ conditionExpression: "a = :a", expressionAttributeValues: {} }), "ExpressionAttributeValues must not be empty");
  assert.equal(refusal({ expressionAttributeNames: { "#a": "a" } }), "ExpressionAttributeNames can only be specified when using expressions");
});

test("a reserved word as a bare name is refused, and a placeholder stands in for it", () => {
  assert.equal(refusal({ conditionExpression: "Status = :s", expressionAttributeValues: { ":s": s("x") } }), "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: Status");
  compiled({ conditionExpression: "#s = :s", expressionAttributeNames: { "#s": "Status" }, expressionAttributeValues: { ":s": s("x") } });
});

test("every expression is parsed before any placeholder is resolved", () => {
  assert.equal(
    refusal({ filterExpression: "a = :undefined", projectionExpression: "a,", expressionAttributeValues: { ":v": n("1") } }),
    'Invalid ProjectionExpression: Syntax error; token: "<EOF>", near: ","',
  );
});

test("undefined placeholders are reported before unused ones", () => {
  assert.equal(
    refusal({ conditionExpression: "a = :missing", expressionAttributeValues: { ":unused": n("1") } }),
    "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :missing",
  );
});

test("a key condition needs the table's key schema", () => {
  assert.throws(() => compileExpressions({ keyConditionExpression: "pk = :p", expressionAttributeValues: { ":p": s("x") } }), /needs keySchema/);
});
