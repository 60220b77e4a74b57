import assert from "node:assert/strict";
import { test } from "node:test";
import { compileExpressions, parseCacheEntriesMax, parseCacheSizes, parseCacheTextLengthMax } from "./compile-expressions.js";
import { ParseCache } from "./parse-cache.js";

test("the cache answers a text it parsed without parsing again, and evicts the least recently used", () => {
  const cache = new ParseCache<string>(2, 100);
  let parses = 0;
  const parse = (text: string) => {
    parses++;
    return text.toUpperCase();
  };
  assert.equal(cache.get("a", parse), "A");
  assert.equal(cache.get("b", parse), "B");
  assert.equal(cache.get("a", parse), "A");
  assert.equal(parses, 2);
  cache.get("c", parse); // evicts b, the least recently used
  assert.equal(cache.size, 2);
  cache.get("a", parse);
  assert.equal(parses, 3);
  cache.get("b", parse);
  assert.equal(parses, 4);
});

test("a failed parse is not kept, and texts over the length bound are never kept", () => {
  const cache = new ParseCache<string>(4, 3);
  const failing = () => {
    throw new Error("bad syntax");
  };
  assert.throws(() => cache.get("x", failing), /bad syntax/);
  assert.equal(cache.size, 0);
  assert.equal(cache.get("long", (text) => text), "long");
  assert.equal(cache.size, 0);
  assert.throws(() => new ParseCache<string>(0, 1), /entriesMax/);
});

test("compiled expressions are the same from the cache, with each request's own placeholder values", () => {
  const input = (low: string) => ({
    keyConditionExpression: "pk = :p AND sk BETWEEN :a AND :b",
    keySchema: { partitionKey: "pk", sortKey: "sk" },
    expressionAttributeValues: { ":p": { S: "p1" }, ":a": { S: low }, ":b": { S: "z" } },
  });
  const first = compileExpressions(input("a"));
  const second = compileExpressions(input("b"));
  assert.ok(first.ok && second.ok);
  assert.notDeepEqual(first.value.keyCondition, second.value.keyCondition);
  assert.deepEqual(compileExpressions(input("a")), first);
  // A syntax error is reported every time, from a fresh parse.
  const broken = { conditionExpression: "attribute_exists(", expressionAttributeValues: undefined };
  const once = compileExpressions(broken);
  const twice = compileExpressions(broken);
  assert.ok(!once.ok && !twice.ok);
  assert.deepEqual(once, twice);
});

test("the expression caches stay within their bound", () => {
  for (let i = 0; i < parseCacheEntriesMax + 50; i++) {
    const compiled = compileExpressions({ projectionExpression: `a${i}` });
    assert.ok(compiled.ok);
  }
  compileExpressions({ projectionExpression: Array.from({ length: parseCacheTextLengthMax }, (_, i) => `b${i}`).join(",").slice(0, parseCacheTextLengthMax + 10) });
  assert.equal(parseCacheSizes().projection, parseCacheEntriesMax);
});
