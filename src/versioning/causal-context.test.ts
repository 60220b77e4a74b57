import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Packr } from "msgpackr";
import {
  causalContextCharsMax,
  decodeCausalContext,
  defaultCausalContextBounds,
  encodeCausalContext,
  type CausalContextDecodeResult,
} from "./causal-context.js";
import type { VersionVector } from "./version-vector.js";

const runs = { seed: 0x5eed_0002, numRuns: 200 };
const packr = new Packr({ useRecords: false, moreTypes: false, structuredClone: false });
const raw = (fields: unknown): string => Buffer.from(packr.pack(fields)).toString("base64url");

const contextArb: fc.Arbitrary<VersionVector> = fc
  .dictionary(fc.string({ minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 2 ** 48 }), { maxKeys: 8 })
  .map((counters) => Object.entries(counters).sort(([x], [y]) => (x < y ? -1 : 1)));

function errorOf(result: CausalContextDecodeResult): string {
  assert.equal(result.ok, false, `expected a refusal, got ${JSON.stringify(result)}`);
  return (result as { error: string }).error;
}

test("a causal context round-trips through its URL- and header-safe text", () => {
  fc.assert(
    fc.property(contextArb, (context) => {
      const text = encodeCausalContext(context);
      assert.match(text, /^[A-Za-z0-9_-]+$/);
      assert.deepEqual(decodeCausalContext(text), { ok: true, context });
    }),
    runs,
  );
});

test("the empty context encodes and decodes", () => {
  assert.deepEqual(decodeCausalContext(encodeCausalContext([])), { ok: true, context: [] });
});

test("equal contexts have equal texts", () => {
  const text = encodeCausalContext([["node-a", 3], ["node-b", 1]]);
  assert.equal(encodeCausalContext([["node-a", 3], ["node-b", 1]]), text);
  assert.notEqual(encodeCausalContext([["node-a", 3], ["node-b", 2]]), text);
});

test("decoding refuses what is not base64url MessagePack", () => {
  assert.match(errorOf(decodeCausalContext(undefined)), /not a string/);
  assert.match(errorOf(decodeCausalContext("")), /empty/);
  assert.match(errorOf(decodeCausalContext("abc+/=")), /not base64url/);
  assert.match(errorOf(decodeCausalContext("kQ==")), /not base64url/);
  assert.match(errorOf(decodeCausalContext(raw([1, "a", 1]).slice(0, -2))), /MessagePack|canonical/);
  assert.match(errorOf(decodeCausalContext("wcHB")), /MessagePack|format-tagged/);
});

test("decoding names the wrong shape", () => {
  assert.match(errorOf(decodeCausalContext(raw({ a: 1 }))), /format-tagged list/);
  assert.match(errorOf(decodeCausalContext(raw([]))), /format-tagged list/);
  assert.match(errorOf(decodeCausalContext(raw([2, "a", 1]))), /format 2; this node reads format 1/);
  assert.match(errorOf(decodeCausalContext(raw([1, "a"]))), /without a counter/);
  assert.match(errorOf(decodeCausalContext(raw([1, 7, 1]))), /entry 0: node id is not a non-empty string/);
  assert.match(errorOf(decodeCausalContext(raw([1, "", 1]))), /entry 0: node id/);
  assert.match(errorOf(decodeCausalContext(raw([1, "a", 0]))), /counter of "a" is not an integer >= 1/);
  assert.match(errorOf(decodeCausalContext(raw([1, "a", -3]))), /counter of "a"/);
  assert.match(errorOf(decodeCausalContext(raw([1, "a", 1.5]))), /counter of "a"/);
  assert.match(errorOf(decodeCausalContext(raw([1, "a", "1"]))), /counter of "a"/);
  assert.match(errorOf(decodeCausalContext(raw([1, "b", 1, "a", 1]))), /strictly ascending/);
  assert.match(errorOf(decodeCausalContext(raw([1, "a", 1, "a", 2]))), /strictly ascending/);
});

test("decoding enforces the bounds on counters, node ids, entries and length", () => {
  const { counterMax, nodeIdBytesMax } = defaultCausalContextBounds;
  assert.equal(decodeCausalContext(raw([1, "a", counterMax])).ok, true);
  assert.match(errorOf(decodeCausalContext(raw([1, "a", counterMax + 1]))), new RegExp(`is ${counterMax + 1}; the limit is ${counterMax}`));
  assert.match(errorOf(decodeCausalContext(raw([1, "x".repeat(nodeIdBytesMax + 1), 1]))), /257 bytes; the limit is 256/);
  const bounds = { entriesMax: 2, nodeIdBytesMax: 8, counterMax: 100 };
  assert.match(errorOf(decodeCausalContext(raw([1, "a", 1, "b", 1, "c", 1]), bounds)), /3 entries; the limit is 2/);
  const tooLong = "A".repeat(causalContextCharsMax(bounds) + 1);
  assert.match(errorOf(decodeCausalContext(tooLong, bounds)), /characters; the limit is/);
});

test("the length bound admits the largest context the other bounds allow", () => {
  const bounds = { entriesMax: 16, nodeIdBytesMax: 40, counterMax: 2 ** 48 };
  const context: VersionVector = Array.from({ length: 16 }, (_, i) => [`${String(i).padStart(2, "0")}${"é".repeat(19)}`, 2 ** 48] as const);
  const text = encodeCausalContext(context);
  assert.ok(text.length <= causalContextCharsMax(bounds));
  assert.deepEqual(decodeCausalContext(text, bounds), { ok: true, context });
});

test("decoding refuses trailing bytes and non-canonical encodings", () => {
  const bytes = Buffer.from(encodeCausalContext([["a", 1]]), "base64url");
  assert.match(errorOf(decodeCausalContext(Buffer.concat([bytes, Buffer.from([0xc0])]).toString("base64url"))), /MessagePack/);
  // The same list with its counter as a float64 instead of a fixint.
  const wide = Buffer.from([0x93, 0x01, 0xa1, 0x61, 0xcb, ...new Uint8Array(new Float64Array([1]).buffer).reverse()]);
  assert.match(errorOf(decodeCausalContext(wide.toString("base64url"))), /canonical/);
});

test("decoding never throws and accepts only texts it would produce itself", () => {
  const textArb = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.base64String({ maxLength: 40 }).map((s) => s.replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_")),
    fc.tuple(contextArb, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([context, at, byte]) => {
      const bytes = Buffer.from(encodeCausalContext(context), "base64url");
      bytes[at % bytes.length] = byte;
      return bytes.toString("base64url");
    }),
  );
  fc.assert(
    fc.property(textArb, (text) => {
      const result = decodeCausalContext(text);
      if (result.ok) assert.equal(encodeCausalContext(result.context), text);
      else assert.ok(result.error.length > 0);
    }),
    runs,
  );
});

test("a context is encoded in exactly msgpackr's bytes for the same list, at every size boundary of its ids and counters", () => {
  const asMsgpackr = (context: VersionVector): string => raw([1, ...context.flat()]);
  const counters = [1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0xffff_ffff, 0x1_0000_0000, 2 ** 48];
  const ids = ["a", "n".repeat(31), "n".repeat(32), "n".repeat(255), "n".repeat(256), "node-é", "x\u{1F600}"];
  for (const counter of counters) {
    for (const id of ids) {
      const context: VersionVector = [[id, counter]];
      assert.equal(encodeCausalContext(context), asMsgpackr(context), `${id.length}-char id, counter ${counter}`);
    }
  }
  const many: VersionVector = Array.from({ length: 40 }, (_, i) => [`node-${String(i).padStart(2, "0")}`, 1000 + i] as const);
  for (const count of [0, 7, 8, 40]) assert.equal(encodeCausalContext(many.slice(0, count)), asMsgpackr(many.slice(0, count)), `${count} entries`);
  fc.assert(
    fc.property(contextArb, (context) => assert.equal(encodeCausalContext(context), asMsgpackr(context))),
    runs,
  );
});
