import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { pack } from "msgpackr";
import type { AttributeValue } from "./attribute-value.js";
import { defineEntry, itemToJson } from "./attribute-value-json.js";
import { attributeValuesEqual } from "./attribute-value-order.js";
import { item as itemArbitrary } from "./attribute-value-arbitrary.js";
import { decodeItem, encodeItem, encodeItemTagged, escapeFreeItemJson, itemJsonBytes, itemJsonText, storedItemSize } from "./item-codec.js";
import { itemSize } from "./item-size.js";

test("law: an item survives encoding for storage", () => {
  fc.assert(
    fc.property(itemArbitrary, (item) => attributeValuesEqual({ M: decodeItem(encodeItem(item)) }, { M: item })),
    { numRuns: 150, seed: 31 },
  );
});

test("law: items written in format 2 (MessagePack, tagged values) are still read", () => {
  fc.assert(
    fc.property(itemArbitrary, (item) => attributeValuesEqual({ M: decodeItem(encodeItemTagged(item)) }, { M: item })),
    { numRuns: 100, seed: 37 },
  );
});

test("law: the stored text is the item's DynamoDB JSON and the header its DynamoDB size, in every format", () => {
  fc.assert(
    fc.property(itemArbitrary, (item) => {
      const json = JSON.stringify(itemToJson(item));
      for (const bytes of [encodeItem(item), encodeItemTagged(item)]) {
        assert.equal(itemJsonText(bytes), json);
        assert.equal(Buffer.from(itemJsonBytes(bytes)).toString("utf8"), json);
        assert.equal(storedItemSize(bytes), itemSize(item));
      }
    }),
    { numRuns: 150, seed: 41 },
  );
});

test("law: an item without characters JSON escapes is written as JSON.stringify writes it", () => {
  fc.assert(
    fc.property(itemArbitrary, (item) => {
      const json = JSON.stringify(itemToJson(item));
      fc.pre(!json.includes("\\"));
      assert.equal(escapeFreeItemJson(item), json);
      assert.equal(itemJsonText(encodeItem(item, undefined, true)), json);
    }),
    { numRuns: 300, seed: 43 },
  );
});

test("format 3 is a 0xC1 marker, the size as 4 bytes big-endian, then the JSON text", () => {
  const bytes = encodeItem({ pk: { S: "é" }, n: { N: "12" } });
  const text = '{"pk":{"S":"é"},"n":{"N":"12"}}';
  assert.equal(bytes[0], 0xc1);
  assert.equal(Buffer.from(bytes).readUInt32BE(1), 2 + 2 + 1 + 2);
  assert.equal(Buffer.from(bytes).toString("utf8", 5), text);
  // A plain Uint8Array view (as the acceptor record hands values back) reads the same.
  const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.equal(itemJsonText(view), text);
  assert.deepEqual(Buffer.from(itemJsonBytes(view)), Buffer.from(text, "utf8"));
  assert.equal(storedItemSize(view), 7);
});

test("binary values come back as bytes", () => {
  const decoded = decodeItem(encodeItem({ b: { B: Uint8Array.of(1, 2) }, s: { BS: [Uint8Array.of(3)] } }));
  const b = decoded.b!;
  assert.ok("B" in b && b.B instanceof Uint8Array);
  assert.deepEqual([...b.B], [1, 2]);
});

test("an attribute named __proto__ survives storage, at the top and nested", () => {
  const item = { a: { S: "y" } } as Record<string, AttributeValue>;
  const nested: Record<string, AttributeValue> = {};
  defineEntry(nested, "__proto__", { S: "x" });
  defineEntry(item, "__proto__", { M: nested });
  const back = decodeItem(encodeItem(item));
  assert.deepEqual(Object.keys(back), ["a", "__proto__"]);
  assert.equal(Object.getPrototypeOf(back), Object.prototype);
  assert.ok(attributeValuesEqual({ M: back }, { M: item }));
});

test("items written in format 1 (the model's own shape) are still read", () => {
  assert.deepEqual(decodeItem(pack([1, { a: { S: "x" } }])), { a: { S: "x" } });
});

test("bytes of an unknown format are refused", () => {
  assert.throws(() => decodeItem(pack([99, {}])), /unknown item format 99/);
  assert.throws(() => decodeItem(pack("nope")), /not an encoded item/);
  assert.throws(() => decodeItem(pack([2, ["a", [42, "x"]]])), /unknown value tag 42/);
  assert.throws(() => decodeItem(Uint8Array.of(0xc1, 0, 0)), /shorter than its header/);
});
