import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { Item } from "../model/attribute-value.js";
import { attributeValuesEqual } from "../model/attribute-value-order.js";
import { item as itemArbitrary } from "../model/attribute-value-arbitrary.js";
import { compileExpressions } from "./compile-expressions.js";
import { projectItem } from "./project-item.js";

const item: Item = {
  pk: { S: "k" },
  a: { M: { b: { S: "ab" }, c: { N: "1" }, d: { L: [{ S: "d0" }, { M: { e: { S: "e" }, f: { S: "f" } } }] } } },
  l: { L: [{ S: "l0" }, { S: "l1" }, { S: "l2" }, { S: "l3" }] },
  s: { SS: ["x"] },
};

function projected(expression: string, names?: Record<string, string>): Item {
  const compiled = compileExpressions({ projectionExpression: expression, ...(names ? { expressionAttributeNames: names } : {}) });
  assert.ok(compiled.ok, compiled.ok ? "" : compiled.error.message);
  return projectItem(item, compiled.value.projection!);
}

test("top-level names keep whole attributes", () => {
  assert.deepEqual(projected("pk, s"), { pk: item.pk, s: item.s });
});

test("nested paths keep their place in maps", () => {
  assert.deepEqual(projected("a.b, a.d[1].e"), { a: { M: { b: { S: "ab" }, d: { L: [{ M: { e: { S: "e" } } }] } } } });
});

test("list elements keep their order and close up", () => {
  assert.deepEqual(projected("l[3], l[1]"), { l: { L: [{ S: "l1" }, { S: "l3" }] } });
});

test("paths that find nothing are left out", () => {
  assert.deepEqual(projected("nope, a.nope, l[9], pk.x, s[0]"), {});
});

test("placeholders name attributes with any characters", () => {
  assert.deepEqual(projected("#odd", { "#odd": "pk" }), { pk: item.pk });
});

test("overlapping projection paths are refused", () => {
  const result = compileExpressions({ projectionExpression: "a, a.b" });
  assert.equal(result.ok ? "" : result.error.message, "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]");
});

test("reserved words in projections are refused", () => {
  const result = compileExpressions({ projectionExpression: "pk, name" });
  assert.equal(result.ok ? "" : result.error.message, "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: name");
});

test("law: projecting every top-level name gives the item back", () => {
  fc.assert(
    fc.property(itemArbitrary, (target) => {
      const paths = Object.keys(target).map((name) => [name]);
      assert.ok(attributeValuesEqual({ M: projectItem(target, paths) }, { M: target }));
    }),
    { numRuns: 100, seed: 61 },
  );
});
