import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { compareBytes, startsWith } from "../storage/byte-order.js";
import { Namespace } from "../storage/keyspace.js";
import { decodeHintKey, encodeHintKey, hintTargetPrefix } from "./hint-key.js";

const targetArb = fc.string({ minLength: 1, maxLength: 20, unit: "grapheme" });
const hintKeyArb = fc.record({
  target: targetArb,
  tableId: fc.integer({ min: 0, max: 0xffff_ffff }),
  key: fc.uint8Array({ minLength: 1, maxLength: 40 }),
});

test("hint keys round-trip and live in the hints namespace under their target's prefix", () => {
  fc.assert(
    fc.property(hintKeyArb, (hint) => {
      const encoded = encodeHintKey(hint);
      assert.equal(encoded[0], Namespace.hints);
      assert.ok(startsWith(encoded, hintTargetPrefix(hint.target)));
      const decoded = decodeHintKey(encoded);
      assert.equal(decoded.target, hint.target);
      assert.equal(decoded.tableId, hint.tableId);
      assert.deepEqual([...decoded.key], [...hint.key]);
    }),
    { numRuns: 200, seed: 0x5eed_0331 },
  );
});

test("one target's prefix never covers another target's hints", () => {
  fc.assert(
    fc.property(hintKeyArb, targetArb, (hint, other) => {
      fc.pre(other !== hint.target);
      assert.ok(!startsWith(encodeHintKey(hint), hintTargetPrefix(other)));
    }),
    { numRuns: 200, seed: 0x5eed_0332 },
  );
});

test("a target's hints sort by table id, then by key bytes", () => {
  const a = encodeHintKey({ target: "b", tableId: 1, key: Uint8Array.of(9) });
  const b = encodeHintKey({ target: "b", tableId: 2, key: Uint8Array.of(1) });
  const c = encodeHintKey({ target: "b", tableId: 2, key: Uint8Array.of(1, 0) });
  assert.ok(compareBytes(a, b) < 0 && compareBytes(b, c) < 0);
});

test("hint keys refuse an empty target, a target over 255 bytes and an empty item key", () => {
  assert.throws(() => encodeHintKey({ target: "", tableId: 1, key: Uint8Array.of(1) }), /target node id is 0 bytes/);
  assert.throws(() => encodeHintKey({ target: "x".repeat(256), tableId: 1, key: Uint8Array.of(1) }), /256 bytes/);
  assert.throws(() => encodeHintKey({ target: "b", tableId: 1, key: new Uint8Array(0) }), /must not be empty/);
});
