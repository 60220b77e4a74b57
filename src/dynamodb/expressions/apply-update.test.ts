import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { AttributeValue, Item } from "../model/attribute-value.js";
import { attributeValuesEqual } from "../model/attribute-value-order.js";
import { item as itemArbitrary } from "../model/attribute-value-arbitrary.js";
import { applyUpdate, updatedAttributeNames, type UpdateOutcome } from "./apply-update.js";
import { compileExpressions } from "./compile-expressions.js";
import type { ResolvedUpdate } from "./expression-ast.js";

const base: Item = {
  pk: { S: "k" },
  hits: { N: "5" },
  title: { S: "t" },
  tags: { SS: ["a", "b"] },
  nums: { NS: ["1", "2"] },
  seq: { L: [{ S: "x" }, { S: "y" }, { S: "z" }] },
  doc: { M: { nested: { M: { leaf: { N: "1" } } }, arr: { L: [{ N: "0" }] } } },
};

function compile(updateExpression: string, values?: Record<string, AttributeValue>, names?: Record<string, string>): ResolvedUpdate {
  const result = compileExpressions({ updateExpression, ...(values ? { expressionAttributeValues: values } : {}), ...(names ? { expressionAttributeNames: names } : {}) });
  assert.ok(result.ok, result.ok ? "" : result.error.message);
  return result.value.update!;
}

function applied(expression: string, values?: Record<string, AttributeValue>, item: Item = base): UpdateOutcome {
  const result = applyUpdate(compile(expression, values), item);
  assert.ok(result.ok, result.ok ? "" : result.error.message);
  return result.value;
}

function failure(expression: string, values?: Record<string, AttributeValue>, item: Item = base): string {
  const result = applyUpdate(compile(expression, values), item);
  assert.equal(result.ok, false, `expected ${expression} to fail`);
  return result.ok ? "" : result.error.message;
}

function compileFailure(updateExpression: string, values?: Record<string, AttributeValue>): string {
  const result = compileExpressions({ updateExpression, ...(values ? { expressionAttributeValues: values } : {}) });
  assert.equal(result.ok, false, `expected ${updateExpression} to be refused`);
  return result.ok ? "" : result.error.message;
}

test("SET writes top-level and nested attributes without changing the input", () => {
  const outcome = applied("SET title = :v, doc.nested.leaf = :n, doc.added = :v", { ":v": { S: "new" }, ":n": { N: "9" } });
  assert.deepEqual(outcome.item.title, { S: "new" });
  assert.deepEqual(outcome.item.doc, { M: { nested: { M: { leaf: { N: "9" } } }, arr: { L: [{ N: "0" }] }, added: { S: "new" } } });
  assert.deepEqual(base.title, { S: "t" });
});

test("SET arithmetic is exact and reads the item before the update", () => {
  assert.deepEqual(applied("SET hits = hits + :d", { ":d": { N: "0.1" } }).item.hits, { N: "5.1" });
  assert.deepEqual(applied("SET hits = :a - hits", { ":a": { N: "2" } }).item.hits, { N: "-3" });
  const swapped = applied("SET title = pk, pk = title").item;
  assert.deepEqual([swapped.title, swapped.pk], [{ S: "k" }, { S: "t" }]);
});

test("parenthesised arithmetic applies like the bare form", () => {
  assert.deepEqual(applied("SET hits = (hits - :d)", { ":d": { N: "1" } }).item.hits, { N: "4" });
});

test("if_not_exists falls back only when the attribute is missing", () => {
  assert.deepEqual(applied("SET hits = if_not_exists(hits, :z) + :one", { ":z": { N: "0" }, ":one": { N: "1" } }).item.hits, { N: "6" });
  assert.deepEqual(applied("SET fresh = if_not_exists(fresh, :z) + :one", { ":z": { N: "0" }, ":one": { N: "1" } }).item.fresh, { N: "1" });
});

test("list_append joins lists in either order", () => {
  assert.deepEqual(applied("SET seq = list_append(seq, :l)", { ":l": { L: [{ S: "w" }] } }).item.seq, { L: [{ S: "x" }, { S: "y" }, { S: "z" }, { S: "w" }] });
  assert.deepEqual(applied("SET seq = list_append(:l, seq)", { ":l": { L: [{ S: "w" }] } }).item.seq, { L: [{ S: "w" }, { S: "x" }, { S: "y" }, { S: "z" }] });
});

test("SET past the end of a seq appends", () => {
  assert.deepEqual(applied("SET seq[10] = :v", { ":v": { S: "end" } }).item.seq, { L: [{ S: "x" }, { S: "y" }, { S: "z" }, { S: "end" }] });
});

test("REMOVE deletes attributes and seq elements by their original indexes", () => {
  const outcome = applied("REMOVE title, seq[0], seq[2], doc.nested, absent");
  assert.equal(outcome.item.title, undefined);
  assert.deepEqual(outcome.item.seq, { L: [{ S: "y" }] });
  assert.deepEqual(outcome.item.doc, { M: { arr: { L: [{ N: "0" }] } } });
});

test("ADD adds to numbers and sets, and creates what is missing", () => {
  const outcome = applied("ADD hits :n, tags :ss, nums :ns, newnum :n, newset :ss", { ":n": { N: "-2" }, ":ss": { SS: ["b", "c"] }, ":ns": { NS: ["3"] } });
  assert.deepEqual(outcome.item.hits, { N: "3" });
  assert.deepEqual(outcome.item.tags, { SS: ["a", "b", "c"] });
  assert.deepEqual(outcome.item.nums, { NS: ["1", "2", "3"] });
  assert.deepEqual(outcome.item.newnum, { N: "-2" });
  assert.deepEqual(outcome.item.newset, { SS: ["b", "c"] });
});

test("DELETE removes set members and the attribute when none are left", () => {
  assert.deepEqual(applied("DELETE tags :s", { ":s": { SS: ["a", "zz"] } }).item.tags, { SS: ["b"] });
  assert.equal(applied("DELETE tags :s", { ":s": { SS: ["a", "b"] } }).item.tags, undefined);
  assert.equal(applied("DELETE absent :s", { ":s": { SS: ["a"] } }).item.absent, undefined);
});

test("updatedOld and updatedNew hold only the updated paths", () => {
  const outcome = applied("SET doc.nested.leaf = :n REMOVE title", { ":n": { N: "2" } });
  assert.deepEqual(outcome.updatedOld, { doc: { M: { nested: { M: { leaf: { N: "1" } } } } }, title: { S: "t" } });
  assert.deepEqual(outcome.updatedNew, { doc: { M: { nested: { M: { leaf: { N: "2" } } } } } });
});

test("arithmetic on a non-number fails as DynamoDB does", () => {
  assert.equal(failure("SET title = title + :n", { ":n": { N: "1" } }), "An operand in the update expression has an incorrect data type");
  assert.equal(failure("SET x = absent + :n", { ":n": { N: "1" } }), "The provided expression refers to an attribute that does not exist in the item");
});

test("list_append on a non-seq, ADD or DELETE on a wrong type fail", () => {
  assert.equal(failure("SET title = list_append(title, :l)", { ":l": { L: [] } }), "An operand in the update expression has an incorrect data type");
  assert.equal(failure("ADD title :n", { ":n": { N: "1" } }), "An operand in the update expression has an incorrect data type");
  assert.equal(failure("ADD tags :ns", { ":ns": { NS: ["1"] } }), "An operand in the update expression has an incorrect data type");
  assert.equal(failure("DELETE nums :ss", { ":ss": { SS: ["1"] } }), "An operand in the update expression has an incorrect data type");
});

test("a nested path under something missing or of another type is invalid for update", () => {
  const message = "The document path provided in the update expression is invalid for update";
  assert.equal(failure("SET absent.x = :v", { ":v": { S: "v" } }), message);
  assert.equal(failure("SET title.x = :v", { ":v": { S: "v" } }), message);
  assert.equal(failure("SET doc[0] = :v", { ":v": { S: "v" } }), message);
  assert.equal(failure("SET seq[7].x = :v", { ":v": { S: "v" } }), message);
  assert.equal(failure("REMOVE absent.x"), message);
  assert.equal(failure("REMOVE title.x"), message);
  assert.deepEqual(applied("REMOVE doc.nope, seq[9]").item, base);
});

test("a sum past DynamoDB's range fails with the overflow message", () => {
  assert.equal(
    failure("SET hits = hits + :big", { ":big": { N: "9.9999999999999999999999999999999999999E+125" } }, { hits: { N: "1E+125" } }),
    "Number overflow. Attempting to store a number with magnitude larger than supported range",
  );
});

test("an item grown past 400 KB is refused", () => {
  const big = { S: "x".repeat(300 * 1024) };
  assert.equal(failure("SET a = :v, b = :v", { ":v": big }, {}), "Item size to update has exceeded the maximum allowed size");
});

test("a write that nests deeper than 32 levels is refused", () => {
  let value: AttributeValue = { S: "leaf" };
  for (let i = 1; i < 31; i++) value = { L: [value] };
  assert.ok(applyUpdate(compile("SET a.b = :v", { ":v": value }), { a: { M: {} } }).ok);
  assert.equal(failure("SET a.b.c = :v", { ":v": value }, { a: { M: { b: { M: {} } } } }), "Nesting Levels have exceeded supported limits");
});

test("each clause may appear once", () => {
  assert.equal(compileFailure("SET a = :v SET b = :v", { ":v": { N: "1" } }), 'Invalid UpdateExpression: The "SET" section can only be used once in an update expression;');
  assert.equal(compileFailure("REMOVE a REMOVE b"), 'Invalid UpdateExpression: The "REMOVE" section can only be used once in an update expression;');
});

test("overlapping and conflicting paths are refused", () => {
  assert.equal(
    compileFailure("SET a = :v REMOVE a.b", { ":v": { N: "1" } }),
    "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]",
  );
  assert.equal(
    compileFailure("SET a.b = :v, a[1] = :v", { ":v": { N: "1" } }),
    "Invalid UpdateExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a, [1]]",
  );
  assert.ok(compileExpressions({ updateExpression: "SET a.b = :v, a.c = :v", expressionAttributeValues: { ":v": { N: "1" } } }).ok);
});

test("value types are checked when the update is compiled", () => {
  assert.equal(compileFailure("ADD a :v", { ":v": { S: "x" } }), "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING");
  assert.equal(compileFailure("DELETE a :v", { ":v": { N: "1" } }), "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER");
  assert.equal(compileFailure("SET a = b + :v", { ":v": { S: "x" } }), "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: +, operand type: S");
  assert.equal(compileFailure("SET a = list_append(b, :v)", { ":v": { S: "x" } }), "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: list_append, operand type: S");
});

test("condition functions are not allowed in updates", () => {
  assert.equal(compileFailure("SET a = size(b)"), "Invalid UpdateExpression: The function is not allowed to be used this way in an expression; function: size");
  assert.equal(compileFailure("SET a = nope(b)"), "Invalid UpdateExpression: Invalid function name; function: nope");
});

test("updatedAttributeNames lists the top-level names an update touches", () => {
  assert.deepEqual([...updatedAttributeNames(compile("SET a.b = :v REMOVE c[1] ADD d :v", { ":v": { N: "1" } }))].sort(), ["a", "c", "d"]);
});

test("law: SET of a fresh attribute then REMOVE of it gives the item back", () => {
  fc.assert(
    fc.property(itemArbitrary, (item) => {
      const set = applyUpdate(compile("SET #f = :v", { ":v": { S: "v" } }, { "#f": "fresh attribute" }), item);
      assert.ok(set.ok);
      const removed = applyUpdate(compile("REMOVE #f", undefined, { "#f": "fresh attribute" }), set.value.item);
      assert.ok(removed.ok);
      assert.ok(attributeValuesEqual({ M: removed.value.item }, { M: item }));
    }),
    { numRuns: 100, seed: 51 },
  );
});
