import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { AttributeValue, Item } from "../model/attribute-value.js";
import { item as itemArbitrary } from "../model/attribute-value-arbitrary.js";
import { compileExpressions } from "./compile-expressions.js";
import { evaluateCondition } from "./evaluate-condition.js";

const item: Item = {
  pk: { S: "user#1" },
  age: { N: "42" },
  title: { S: "Ada" },
  nick: { S: "" },
  tags: { SS: ["admin", "dev"] },
  scores: { NS: ["1", "2.5"] },
  bytes: { B: Uint8Array.of(1, 2, 3) },
  active: { BOOL: true },
  nothing: { NULL: true },
  address: { M: { city: { S: "London" }, zip: { N: "1" } } },
  history: { L: [{ S: "a" }, { N: "7" }, { M: { deep: { S: "x" } } }] },
};

const values: Record<string, AttributeValue> = {
  ":n40": { N: "40" }, ":n42": { N: "42.0" }, ":n50": { N: "50" }, ":sAda": { S: "Ada" }, ":sA": { S: "A" }, ":sBob": { S: "Bob" },
  ":admin": { S: "admin" }, ":x": { S: "x" }, ":t": { BOOL: true }, ":S": { S: "S" }, ":SS": { S: "SS" }, ":M": { S: "M" },
  ":b12": { B: Uint8Array.of(1, 2) }, ":n2": { N: "2" }, ":n3": { N: "3" }, ":n7": { N: "7" }, ":s42": { S: "42" }, ":n25": { N: "2.5" },
  ":london": { S: "London" }, ":map": { M: { city: { S: "London" }, zip: { N: "1" } } }, ":lon": { S: "Lon" },
};

function holds(expression: string): boolean {
  return holdsOn(expression, item);
}

function holdsOn(expression: string, target: Item | undefined): boolean {
  const used = Object.fromEntries(Object.entries(values).filter(([name]) => new RegExp(`${name}(?![a-zA-Z0-9_])`).test(expression)));
  const compiled = compileExpressions({ conditionExpression: expression, ...(Object.keys(used).length > 0 ? { expressionAttributeValues: used } : {}) });
  assert.ok(compiled.ok, compiled.ok ? "" : compiled.error.message);
  return evaluateCondition(compiled.value.condition!, target);
}

test("comparisons of numbers are numeric and of strings by bytes", () => {
  assert.equal(holds("age = :n42"), true);
  assert.equal(holds("age > :n40 AND age < :n50"), true);
  assert.equal(holds("age >= :n42 AND age <= :n42"), true);
  assert.equal(holds("title > :sA AND title < :sBob"), true);
  assert.equal(holds("age <> :n40"), true);
});

test("comparing different types is false, and <> is true", () => {
  assert.equal(holds("age = :s42"), false);
  assert.equal(holds("age < :s42"), false);
  assert.equal(holds("age > :s42"), false);
  assert.equal(holds("age <> :s42"), true);
});

test("a missing attribute compares false except with <>", () => {
  assert.equal(holds("absent = :n42"), false);
  assert.equal(holds("absent < :n42"), false);
  assert.equal(holds("absent <> :n42"), true);
  assert.equal(holds("NOT absent = :n42"), true);
});

test("a condition on an item that does not exist sees every attribute missing", () => {
  assert.equal(holdsOn("attribute_not_exists(pk)", undefined), true);
  assert.equal(holdsOn("attribute_exists(pk)", undefined), false);
  assert.equal(holdsOn("age <> :n42", undefined), true);
});

test("BETWEEN is inclusive and IN matches any member", () => {
  assert.equal(holds("age BETWEEN :n40 AND :n42"), true);
  assert.equal(holds("age BETWEEN :n42 AND :n50"), true);
  assert.equal(holds("age BETWEEN :n2 AND :n7"), false);
  assert.equal(holds("age IN (:n40, :n42)"), true);
  assert.equal(holds("age IN (:n40, :n50)"), false);
  assert.equal(holds("title IN (:sAda)"), true);
});

test("maps and sets compare for equality by content", () => {
  assert.equal(holds("address = :map"), true);
  assert.equal(holds("address.city = :london"), true);
});

test("attribute_exists and attribute_not_exists follow document paths", () => {
  assert.equal(holds("attribute_exists(address.city)"), true);
  assert.equal(holds("attribute_exists(history[2].deep)"), true);
  assert.equal(holds("attribute_exists(history[3])"), false);
  assert.equal(holds("attribute_exists(address.city.nope)"), false);
  assert.equal(holds("attribute_not_exists(nope)"), true);
  assert.equal(holds("attribute_exists(nick)"), true);
});

test("attribute_type names the type", () => {
  assert.equal(holds("attribute_type(title, :S)"), true);
  assert.equal(holds("attribute_type(tags, :SS)"), true);
  assert.equal(holds("attribute_type(address, :M)"), true);
  assert.equal(holds("attribute_type(title, :M)"), false);
  assert.equal(holds("attribute_type(nope, :S)"), false);
});

test("begins_with works on strings and binaries", () => {
  assert.equal(holds("begins_with(address.city, :lon)"), true);
  assert.equal(holds("begins_with(title, :lon)"), false);
  assert.equal(holds("begins_with(bytes, :b12)"), true);
  assert.equal(holds("begins_with(age, :sA)"), false);
});

test("contains finds substrings, set members and list elements", () => {
  assert.equal(holds("contains(title, :sA)"), true);
  assert.equal(holds("contains(tags, :admin)"), true);
  assert.equal(holds("contains(tags, :x)"), false);
  assert.equal(holds("contains(scores, :n25)"), true);
  assert.equal(holds("contains(history, :n7)"), true);
  assert.equal(holds("contains(age, :n42)"), false);
});

test("size measures strings, binaries, sets, maps and lists, and nothing else", () => {
  assert.equal(holds("size(title) = :n3"), true);
  assert.equal(holds("size(bytes) = :n3"), true);
  assert.equal(holds("size(tags) = :n2"), true);
  assert.equal(holds("size(address) = :n2"), true);
  assert.equal(holds("size(history) = :n3"), true);
  assert.equal(holds("size(age) = :n2"), false);
  assert.equal(holds("size(age) <> :n2"), true);
  assert.equal(holds("size(active) > :n2"), false);
});

test("NOT binds tighter than AND, which binds tighter than OR", () => {
  // true OR (false AND false) is true; (true OR false) AND false would be false.
  assert.equal(holds("age = :n42 OR age = :n40 AND age = :n50"), true);
  assert.equal(holds("(age = :n42 OR age = :n40) AND age = :n50"), false);
  // (NOT false) AND true is true; NOT (false AND true) would also be true, so check with OR.
  assert.equal(holds("NOT age = :n42 OR age = :n42"), true);
  assert.equal(holds("NOT (age = :n42 OR age = :n42)"), false);
});

test("path-to-path comparisons read both sides from the item", () => {
  assert.equal(holds("history[1] > age"), false);
  assert.equal(holds("history[1] < age"), true);
});

test("law: NOT negates every condition", () => {
  const expressions = ["a = b", "a < b", "attribute_exists(a)", "contains(a, b)", "size(a) > size(b)", "begins_with(a, b)", "a <> b"];
  fc.assert(
    fc.property(itemArbitrary, fc.constantFrom(...expressions), (target, expression) => {
      const plain = compileExpressions({ conditionExpression: expression });
      const negated = compileExpressions({ conditionExpression: `NOT (${expression})` });
      assert.ok(plain.ok && negated.ok);
      assert.equal(evaluateCondition(negated.value.condition!, target), !evaluateCondition(plain.value.condition!, target));
    }),
    { numRuns: 150, seed: 41 },
  );
});

test("law: every attribute equals itself, and = and <> disagree", () => {
  fc.assert(
    fc.property(itemArbitrary, (target) => {
      for (const attribute of Object.keys(target)) {
        const compiled = compileExpressions({ conditionExpression: "#a = :v AND NOT #a <> :v", expressionAttributeNames: { "#a": attribute }, expressionAttributeValues: { ":v": target[attribute]! } });
        assert.ok(compiled.ok);
        assert.equal(evaluateCondition(compiled.value.condition!, target), true, attribute);
      }
    }),
    { numRuns: 100, seed: 42 },
  );
});
