import { test } from "node:test";
import assert from "node:assert/strict";
import { parseJsonBody } from "../dynamodb-api.js";
import { isEscapeFree } from "./escape-free.js";

test("a body is escape-free only when its JSON text holds no backslash", () => {
  assert.equal(isEscapeFree(parseJsonBody(Buffer.from('{"Item":{"pk":{"S":"a b é"}}}'))), true);
  assert.equal(isEscapeFree(parseJsonBody(Buffer.from('{"Item":{"pk":{"S":"a\\"b"}}}'))), false);
  assert.equal(isEscapeFree(parseJsonBody(Buffer.from('{"Item":{"pk":{"S":"\\u0041"}}}'))), false);
  assert.equal(isEscapeFree({}), false);
  assert.equal(isEscapeFree(parseJsonBody(Buffer.from('{"Key":{"pk":{"S":"a"}}}'), false)), false);
});
