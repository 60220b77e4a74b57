import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { pack } from "msgpackr";
import { attributeValuesEqual } from "./attribute-value-order.js";
import { item as itemArbitrary } from "./attribute-value-arbitrary.js";
import { decodeItem, encodeItem } from "./item-codec.js";

test("law: an item survives encoding for storage", () => {
  fc.assert(
    fc.property(itemArbitrary, (item) => attributeValuesEqual({ M: decodeItem(encodeItem(item)) }, { M: item })),
    { numRuns: 150, seed: 31 },
  );
});

test("binary values come back as bytes", () => {
  const decoded = decodeItem(encodeItem({ b: { B: Uint8Array.of(1, 2) }, s: { BS: [Uint8Array.of(3)] } }));
  const b = decoded.b!;
  assert.ok("B" in b && b.B instanceof Uint8Array);
  assert.deepEqual([...b.B], [1, 2]);
});

test("bytes of an unknown format are refused", () => {
  assert.throws(() => decodeItem(pack([99, {}])), /unknown item format 99/);
  assert.throws(() => decodeItem(pack("nope")), /not an encoded item/);
});
