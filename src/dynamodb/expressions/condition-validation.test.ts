import { test } from "node:test";
import assert from "node:assert/strict";
import type { AttributeValue } from "../model/attribute-value.js";
import { compileExpressions } from "./compile-expressions.js";

const values: Record<string, AttributeValue> = {
  ":n1": { N: "1" }, ":n5": { N: "5" }, ":s": { S: "a" }, ":m": { M: {} }, ":l": { L: [] }, ":bad": { S: "STRING" }, ":ty": { N: "1" },
};

function refusal(conditionExpression: string): string {
  const used = Object.fromEntries(Object.entries(values).filter(([name]) => new RegExp(`${name}(?![a-zA-Z0-9_])`).test(conditionExpression)));
  const result = compileExpressions({ conditionExpression, ...(Object.keys(used).length > 0 ? { expressionAttributeValues: used } : {}) });
  assert.equal(result.ok, false, `expected ${conditionExpression} to be refused`);
  return result.ok ? "" : result.error.message;
}

const prefix = "Invalid ConditionExpression: ";

test("an unknown function is refused by name", () => {
  assert.equal(refusal("foo(a)"), `${prefix}Invalid function name; function: foo`);
  assert.equal(refusal("a = bar(b)"), `${prefix}Invalid function name; function: bar`);
});

test("a function in the wrong place is refused", () => {
  assert.equal(refusal("size(a)"), `${prefix}The function is not allowed to be used this way in an expression; function: size`);
  assert.equal(refusal("a = attribute_exists(b)"), `${prefix}The function is not allowed to be used this way in an expression; function: attribute_exists`);
  assert.equal(refusal("if_not_exists(a, :n1) = :n1"), `${prefix}The function is not allowed to be used this way in an expression; function: if_not_exists`);
});

test("a function with the wrong number of operands is refused", () => {
  assert.equal(refusal("attribute_exists(a, b)"), `${prefix}Incorrect number of operands for operator or function; operator or function: attribute_exists, number of operands: 2`);
  assert.equal(refusal("begins_with(a)"), `${prefix}Incorrect number of operands for operator or function; operator or function: begins_with, number of operands: 1`);
  assert.equal(refusal("size() = :n1"), `${prefix}Incorrect number of operands for operator or function; operator or function: size, number of operands: 0`);
});

test("a function that needs a document path refuses a value", () => {
  assert.equal(refusal("attribute_exists(:s)"), `${prefix}Operator or function requires a document path; operator or function: attribute_exists`);
  assert.equal(refusal("begins_with(:s, :s)"), `${prefix}Operator or function requires a document path; operator or function: begins_with`);
});

test("size of a value is measured when compiled, and refused for a type without a size", () => {
  const compiled = compileExpressions({ conditionExpression: "size(:s) = :n1", expressionAttributeValues: { ":s": { S: "a" }, ":n1": { N: "1" } } });
  assert.ok(compiled.ok);
  assert.deepEqual(compiled.value.condition, { kind: "compare", op: "=", left: { kind: "value", value: { N: "1" } }, right: { kind: "value", value: { N: "1" } } });
  assert.equal(refusal("size(:n1) = :n5"), `${prefix}Incorrect operand type for operator or function; operator or function: size, operand type: N`);
});

test("ordering comparisons refuse values that have no order", () => {
  assert.equal(refusal("a < :m"), `${prefix}Incorrect operand type for operator or function; operator or function: <, operand type: M`);
  assert.equal(refusal("a BETWEEN :l AND :n5"), `${prefix}Incorrect operand type for operator or function; operator or function: BETWEEN, operand type: L`);
  assert.equal(refusal("begins_with(a, :n1)"), `${prefix}Incorrect operand type for operator or function; operator or function: begins_with, operand type: N`);
});

test("BETWEEN refuses bounds upside down or of different types", () => {
  assert.equal(refusal("a BETWEEN :n5 AND :n1"), `${prefix}The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lowerBound: {N: 5}, upperBound: {N: 1}`);
  assert.match(refusal("a BETWEEN :n1 AND :s"), /^Invalid ConditionExpression: The BETWEEN operator requires same data type for lower and upper bounds/);
});

test("attribute_type refuses a name that is no type", () => {
  assert.equal(refusal("attribute_type(a, :bad)"), `${prefix}Invalid attribute type name found; type: STRING, valid types: { S,N,B,BOOL,NULL,M,L,SS,NS,BS }`);
  assert.equal(refusal("attribute_type(a, :ty)"), `${prefix}Incorrect operand type for operator or function; operator or function: attribute_type, operand type: N`);
});

test("redundant parentheses are refused, single ones are fine", () => {
  assert.equal(refusal("((a = :n1))"), `${prefix}The expression has redundant parentheses;`);
  const fine = compileExpressions({ conditionExpression: "(a = :n1) AND (b = :n1 OR (c = :n1))", expressionAttributeValues: { ":n1": { N: "1" } } });
  assert.ok(fine.ok);
});

test("IN takes at most 100 operands", () => {
  const names = (count: number) => Array.from({ length: count }, (_, i) => `:v${i}`);
  const valuesOf = (count: number) => Object.fromEntries(names(count).map((name) => [name, { N: "1" }]));
  assert.ok(compileExpressions({ conditionExpression: `a IN (${names(100).join(",")})`, expressionAttributeValues: valuesOf(100) }).ok);
  const over = compileExpressions({ conditionExpression: `a IN (${names(101).join(",")})`, expressionAttributeValues: valuesOf(101) });
  assert.equal(over.ok ? "" : over.error.message, `${prefix}The IN operator is provided with too many operands; number of operands: 101`);
});

test("syntax errors come before undefined placeholders", () => {
  assert.match(refusal("a = :undefined AND"), /Syntax error; token: "<EOF>", near: "AND"/);
});

test("a structural error comes before an undefined placeholder", () => {
  assert.equal(refusal("a = :undefined AND foo(b)"), `${prefix}Invalid function name; function: foo`);
});

test("filter expressions name themselves in messages", () => {
  const result = compileExpressions({ filterExpression: "size(a)" });
  assert.equal(result.ok ? "" : result.error.message, "Invalid FilterExpression: The function is not allowed to be used this way in an expression; function: size");
});

test("an operator whose first path appears again is refused", () => {
  const result = compileExpressions({ conditionExpression: "contains(#a, #a)", expressionAttributeNames: { "#a": "data" } });
  assert.equal(
    result.ok ? "" : result.error.message,
    "Invalid ConditionExpression: The first operand must be distinct from the remaining operands for this operator or function; operator: contains, first operand: [data]",
  );
  assert.match(refusal("a = :n1 AND b = b"), /first operand must be distinct.*operator: =, first operand: \[b\]$/);
  assert.ok(compileExpressions({ conditionExpression: "a = b" }).ok);
});
