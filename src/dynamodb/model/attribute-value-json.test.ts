import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { attributeValueMessages, attributeValueToJson, itemToJson, nestingDepthMax, parseAttributeValue, parseItem } from "./attribute-value-json.js";
import { attributeValuesEqual } from "./attribute-value-order.js";
import { item as itemArbitrary } from "./attribute-value-arbitrary.js";

function refusal(json: unknown): { type: string; message: string } {
  const result = parseAttributeValue(json);
  assert.equal(result.ok, false, JSON.stringify(json));
  return result.ok ? { type: "", message: "" } : result.error;
}

test("every type parses and serialises back", () => {
  const cases = [{ S: "" }, { S: "x" }, { N: "1.5" }, { B: "AAEC" }, { BOOL: false }, { NULL: true }, { M: { a: { S: "b" } } }, { L: [{ N: "1" }, { S: "a" }] }, { SS: ["a", "b"] }, { NS: ["1", "2"] }, { BS: ["AA==", "AQ=="] }, { M: {} }, { L: [] }];
  for (const json of cases) {
    const parsed = parseAttributeValue(json);
    assert.ok(parsed.ok, JSON.stringify(json));
    assert.deepEqual(attributeValueToJson(parsed.value), json);
  }
});

test("binary values decode from base64", () => {
  const parsed = parseAttributeValue({ B: "AAEC" });
  assert.ok(parsed.ok && "B" in parsed.value);
  assert.deepEqual([...parsed.value.B], [0, 1, 2]);
});

test("numbers are normalised on the way in", () => {
  assert.deepEqual(parseAttributeValue({ N: "01.50" }), { ok: true, value: { N: "1.5" } });
  assert.deepEqual(parseAttributeValue({ NS: ["1e2", "-0"] }), { ok: true, value: { NS: ["100", "0"] } });
});

test("a value must carry exactly one type", () => {
  assert.equal(refusal({}).message, attributeValueMessages.empty);
  assert.equal(refusal({ S: "a", N: "1" }).message, "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes");
});

test("NULL must be true", () => {
  assert.equal(refusal({ NULL: false }).message, "One or more parameter values were invalid: Null attribute value types must have the value of true");
});

test("empty sets are refused with DynamoDB's messages", () => {
  assert.equal(refusal({ SS: [] }).message, "One or more parameter values were invalid: An string set  may not be empty");
  assert.equal(refusal({ NS: [] }).message, "One or more parameter values were invalid: An number set  may not be empty");
  assert.equal(refusal({ BS: [] }).message, "One or more parameter values were invalid: Binary sets should not be empty");
});

test("duplicate set members are refused, numbers by value", () => {
  assert.equal(refusal({ SS: ["a", "a"] }).message, "One or more parameter values were invalid: Input collection [a, a] contains duplicates.");
  assert.equal(refusal({ NS: ["1", "1.0"] }).message, "One or more parameter values were invalid: Input collection [1, 1.0] contains duplicates.");
  assert.equal(refusal({ BS: ["AA==", "AA=="] }).type, "ValidationException");
});

test("invalid numbers inside values and sets are refused", () => {
  assert.equal(refusal({ N: "x" }).message, "The parameter cannot be converted to a numeric value: x");
  assert.equal(refusal({ NS: ["1", "1E+200"] }).message, "Number overflow. Attempting to store a number with magnitude larger than supported range");
});

test("wrong JSON types are serialization errors", () => {
  assert.equal(refusal({ S: 5 }).type, "SerializationException");
  assert.equal(refusal({ N: 5 }).type, "SerializationException");
  assert.equal(refusal({ B: "not base64!" }).type, "SerializationException");
  assert.equal(refusal({ M: [] }).type, "SerializationException");
  assert.equal(refusal("x").type, "SerializationException");
});

function nested(depth: number): unknown {
  let json: unknown = { S: "leaf" };
  for (let i = 1; i < depth; i++) json = { L: [json] };
  return json;
}

test("strings and names with unpaired surrogates are refused, paired ones are fine", () => {
  assert.equal(refusal({ S: "a\ud800" }).type, "SerializationException");
  assert.equal(refusal({ SS: ["ok", "\udc00"] }).type, "SerializationException");
  assert.equal(refusal({ M: { "\ud800": { S: "x" } } }).type, "SerializationException");
  assert.ok(parseAttributeValue({ S: "\u{1f600}" }).ok);
});

test("values nest 32 levels deep and no deeper", () => {
  assert.ok(parseAttributeValue(nested(nestingDepthMax)).ok);
  assert.equal(refusal(nested(nestingDepthMax + 1)).message, "Nesting Levels have exceeded supported limits");
});

test("an attribute named __proto__ is an ordinary attribute", () => {
  const parsed = parseItem(JSON.parse('{"__proto__": {"S": "x"}}'));
  assert.ok(parsed.ok);
  assert.deepEqual(Object.keys(parsed.value), ["__proto__"]);
  assert.deepEqual(JSON.stringify(itemToJson(parsed.value)), '{"__proto__":{"S":"x"}}');
});

test("law: an item survives JSON serialisation and parsing", () => {
  fc.assert(
    fc.property(itemArbitrary, (item) => {
      const back = parseItem(JSON.parse(JSON.stringify(itemToJson(item))));
      assert.ok(back.ok);
      assert.ok(attributeValuesEqual({ M: back.value }, { M: item }));
    }),
    { numRuns: 150, seed: 21 },
  );
});

test("a request's S, N and BOOL objects with one member are the model as they are; anything else is built anew", () => {
  const text = { S: "x" };
  const number = { N: "1.5" };
  const flag = { BOOL: true };
  for (const json of [text, number, flag]) {
    const parsed = parseAttributeValue(json);
    assert.ok(parsed.ok);
    assert.equal(parsed.value, json, JSON.stringify(json));
  }
  // Not the model's shape: a number to normalise, another member beside the type.
  const unnormalised = { N: "01.50" };
  const withExtra = { S: "x", extra: 1 };
  assert.deepEqual(parseAttributeValue(unnormalised), { ok: true, value: { N: "1.5" } });
  const extra = parseAttributeValue(withExtra);
  assert.ok(extra.ok);
  assert.notEqual(extra.value, withExtra);
  assert.deepEqual(extra.value, { S: "x" });
  // The checks still run on the object kept as it is.
  assert.equal(refusal({ S: "a\ud800" }).message, attributeValueMessages.loneSurrogate);
  assert.equal(refusal({ N: "1e400" }).type, "ValidationException");
});

test("an item's attributes are its own members only, \"__proto__\" included", () => {
  const json = JSON.parse('{"__proto__":{"S":"p"},"a":{"N":"2"}}') as unknown;
  const parsed = parseItem(json);
  assert.ok(parsed.ok);
  assert.deepEqual(Object.keys(parsed.value), ["__proto__", "a"]);
  assert.deepEqual(parsed.value.__proto__, { S: "p" });
  const inherited = Object.create({ inherited: { S: "no" } }) as Record<string, unknown>;
  inherited.own = { S: "yes" };
  const own = parseItem(inherited);
  assert.ok(own.ok);
  assert.deepEqual(Object.keys(own.value), ["own"]);
});
