import { test } from "node:test";
import assert from "node:assert/strict";
import { parsedExpressionsCachedMax, parseRawCondition, parseRawProjection, parseRawUpdate } from "./expression-parser.js";

function errorOf(result: { ok: boolean; error?: { message: string } }): string {
  assert.equal(result.ok, false);
  return result.error!.message;
}

test("a condition parses with OR below AND below NOT", () => {
  const parsed = parseRawCondition("ConditionExpression", "a = :a OR NOT b = :b AND c = :c");
  assert.ok(parsed.ok);
  const tree = parsed.value;
  assert.equal(tree.type, "or");
  assert.ok(tree.type === "or" && tree.right.type === "and" && tree.right.left.type === "not");
});

test("keywords are case-insensitive and need a word boundary", () => {
  assert.ok(parseRawCondition("ConditionExpression", "a between :x and :y").ok);
  assert.ok(parseRawCondition("ConditionExpression", "a in(:x, :y)").ok);
  assert.ok(parseRawCondition("ConditionExpression", "android = :x and origin = :y").ok);
});

test("document paths keep names, placeholders and indexes", () => {
  const parsed = parseRawProjection("a.#b[3].c, d");
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.value[0]!.elements, [
    { kind: "name", name: "a" },
    { kind: "placeholder", placeholder: "#b" },
    { kind: "index", index: 3 },
    { kind: "name", name: "c" },
  ]);
});

test("an update parses every clause in order", () => {
  const parsed = parseRawUpdate("SET a = a + :one, b = list_append(b, :l) REMOVE c[1] ADD d :n DELETE e :s");
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.value.clauses.map((c) => c.type), ["SET", "REMOVE", "ADD", "DELETE"]);
});

test("a syntax error names the token and its neighbours as DynamoDB does", () => {
  assert.equal(errorOf(parseRawCondition("ConditionExpression", "a = ")), 'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "="');
  assert.equal(errorOf(parseRawCondition("FilterExpression", "user-name = :v")), 'Invalid FilterExpression: Syntax error; token: "-", near: "user-name"');
  assert.equal(errorOf(parseRawProjection("a,")), 'Invalid ProjectionExpression: Syntax error; token: "<EOF>", near: ","');
});

test("an empty expression is refused", () => {
  assert.equal(errorOf(parseRawUpdate("  ")), "Invalid UpdateExpression: The expression can not be empty;");
});

test("an expression over 4 KB is refused with its size", () => {
  const text = Array.from({ length: 1000 }, (_, i) => `a${i}`).join(", ");
  assert.match(errorOf(parseRawProjection(text)), /^Invalid ProjectionExpression: Expression size has exceeded the maximum allowed size; expression size: \d+$/);
});

test("syntax errors match messages DynamoDB is known to give", () => {
  assert.equal(errorOf(parseRawUpdate("ADD hits : incr")), 'Invalid UpdateExpression: Syntax error; token: ":", near: "hits : incr"');
  assert.equal(errorOf(parseRawUpdate("INVALID SYNTAX HERE")), 'Invalid UpdateExpression: Syntax error; token: "INVALID", near: "INVALID SYNTAX"');
  assert.equal(errorOf(parseRawUpdate("SET a = :a, #, b = :b")), 'Invalid UpdateExpression: Syntax error; token: "#", near: ", #,"');
});

test("a SET value and its operands may be parenthesised", () => {
  const parsed = parseRawUpdate("SET c = (c - :v), d = (d) + (:w)");
  assert.ok(parsed.ok);
  const set = parsed.value.clauses[0]!;
  assert.ok(set.type === "SET");
  assert.deepEqual(set.actions.map((a) => a.value.type), ["minus", "plus"]);
});

test("parentheses nested past the bound are refused instead of exhausting the stack", () => {
  const deep = (depth: number) => `${"(".repeat(depth)}a = :v${")".repeat(depth)}`;
  assert.match(errorOf(parseRawCondition("ConditionExpression", deep(2000))), /parentheses nested too deeply; depth: 2000, limit: 256$/);
  assert.ok(parseRawCondition("ConditionExpression", deep(256)).ok);
});

test("a repeated expression answers the same tree, and the memo stays bounded", () => {
  const first = parseRawCondition("ConditionExpression", "cached = :v");
  assert.equal(parseRawCondition("ConditionExpression", "cached = :v"), first);
  for (let i = 0; i <= parsedExpressionsCachedMax; i++) parseRawProjection(`p${i}`);
  const again = parseRawCondition("ConditionExpression", "cached = :v");
  assert.notEqual(again, first, "the oldest entry was evicted");
  assert.deepEqual(again, first);
});

test("the same text parsed as another kind names that kind in its error", () => {
  assert.match(errorOf(parseRawCondition("ConditionExpression", "a =")), /^Invalid ConditionExpression/);
  assert.match(errorOf(parseRawCondition("FilterExpression", "a =")), /^Invalid FilterExpression/);
});
