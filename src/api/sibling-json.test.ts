import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { ItemVersion } from "../coordinator/item-operations.js";
import { hlcFrom } from "../versioning/hybrid-logical-clock.js";
import { isTextual, siblingJson } from "./sibling-json.js";

const version = (value: Uint8Array, contentType: string): ItemVersion => ({
  value,
  contentType,
  metadata: {},
  version: "v1",
  timestamp: hlcFrom(Date.UTC(2026, 10, 22, 4, 0, 0), 3),
  expiresAtMs: null,
});

test("textual content types are text/*, application/json and +json, whatever their parameters", () => {
  for (const type of ["text/plain", "TEXT/HTML; charset=utf-8", "application/json", "application/json;charset=utf-8", "application/ld+json", " text/csv "]) {
    assert.ok(isTextual(type), type);
  }
  for (const type of ["application/octet-stream", "image/png", "application/jsonl", "application/x-json-not", "", "json"]) {
    assert.ok(!isTextual(type), type);
  }
});

test("a sibling's value decodes back to its exact bytes, whichever encoding was chosen", () => {
  const contentType = fc.constantFrom("text/plain", "application/json", "application/octet-stream", "image/png");
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), contentType, (bytes, type) => {
      const json = siblingJson(version(bytes, type));
      const decoded = Buffer.from(json.value, json.encoding === "utf8" ? "utf8" : "base64");
      assert.deepEqual(new Uint8Array(decoded), bytes);
      if (!isTextual(type)) assert.equal(json.encoding, "base64");
    }),
    { numRuns: 200, seed: 21 },
  );
});

test("a sibling carries a quoted ETag and an HTTP-date Last-Modified from the HLC's physical part", () => {
  const json = siblingJson(version(Buffer.from("\ufeffhi"), "text/plain"));
  assert.equal(json.value, "\ufeffhi", "a byte-order mark is kept, not swallowed");
  assert.equal(json.encoding, "utf8");
  assert.equal(json.etag, '"v1"');
  assert.equal(json.lastModified, "Sun, 22 Nov 2026 04:00:00 GMT");
  assert.equal(json.expiresAt, null);
});
