import { test } from "node:test";
import assert from "node:assert/strict";
import { isEscapeFreeText } from "./escape-free.js";

test("a body is escape-free only when its JSON text holds no backslash", () => {
  assert.equal(isEscapeFreeText(Buffer.from('{"Item":{"pk":{"S":"a b é"}}}')), true);
  assert.equal(isEscapeFreeText(Buffer.from('{"Item":{"pk":{"S":"a\\"b"}}}')), false);
  assert.equal(isEscapeFreeText(Buffer.from('{"Item":{"pk":{"S":"\\u0041"}}}')), false);
  assert.equal(isEscapeFreeText(Buffer.alloc(0)), true);
});
