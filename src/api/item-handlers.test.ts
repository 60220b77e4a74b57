import { test } from "node:test";
import assert from "node:assert/strict";
import { rawHeader } from "./item-handlers.js";

test("rawHeader reads a header from the raw list as req.headers would: any case, repeats joined with ', '", () => {
  const raw = ["Host", "x", "If-None-Match", '"a"', "accept", "*/*", "if-none-match", '"b"'];
  assert.equal(rawHeader(raw, "if-none-match"), '"a", "b"');
  assert.equal(rawHeader(raw, "host"), "x");
  assert.equal(rawHeader(raw, "if-match"), undefined);
  assert.equal(rawHeader([], "if-none-match"), undefined);
});
