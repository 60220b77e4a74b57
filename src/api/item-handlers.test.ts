import { test } from "node:test";
import assert from "node:assert/strict";
import { endWithValue, rawHeader } from "./item-handlers.js";

test("rawHeader reads a header from the raw list as req.headers would: any case, repeats joined with ', '", () => {
  const raw = ["Host", "x", "If-None-Match", '"a"', "accept", "*/*", "if-none-match", '"b"'];
  assert.equal(rawHeader(raw, "if-none-match"), '"a", "b"');
  assert.equal(rawHeader(raw, "host"), "x");
  assert.equal(rawHeader(raw, "if-match"), undefined);
  assert.equal(rawHeader([], "if-none-match"), undefined);
});

test("endWithValue sends a small value as a latin1 string of exactly its bytes, and a large one as the bytes themselves", () => {
  const ends: unknown[][] = [];
  const res = { end: (...args: unknown[]) => ends.push(args) } as unknown as Parameters<typeof endWithValue>[0];
  const every = Uint8Array.from({ length: 256 }, (_, i) => i);
  endWithValue(res, every.subarray(1), 255);
  const [text, encoding] = ends[0] as [string, string];
  assert.equal(encoding, "latin1");
  assert.deepEqual(new Uint8Array(Buffer.from(text, "latin1")), every.subarray(1));
  endWithValue(res, every, 255);
  assert.equal(ends[1]![0], every, "past the bound the value itself");
  assert.equal(ends[1]!.length, 1);
});
