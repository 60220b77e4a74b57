import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { compareBytes } from "../../storage/byte-order.js";
import { compareStrings } from "./attribute-value-order.js";
import { compareNumbers, normalizeNumber } from "./dynamo-number.js";
import { dynamoNumberText } from "./dynamo-number-arbitrary.js";
import { keyBytes, keyFromBytes, numberFromKeyBytes, numberKeyBytes, numberKeyBytesMax, stringKeyBytes } from "./key-bytes.js";

const sign = (x: number) => (x < 0 ? -1 : x > 0 ? 1 : 0);

function normalized(text: string): string {
  const result = normalizeNumber(text);
  assert.ok(result.ok);
  return result.value;
}

test("numbers encode in numeric order across signs, exponents and lengths", () => {
  const ordered = ["-1E+125", "-100", "-99.9", "-10", "-1.23", "-1.2", "-1", "-0.5", "-1E-130", "0", "1E-130", "0.5", "1", "1.2", "1.23", "10", "99.9", "100", "1E+125"];
  const encoded = ordered.map(numberKeyBytes);
  for (let i = 1; i < encoded.length; i++) assert.ok(compareBytes(encoded[i - 1]!, encoded[i]!) < 0, `${ordered[i - 1]} < ${ordered[i]}`);
});

test("equal numbers written differently encode to the same bytes", () => {
  assert.deepEqual(numberKeyBytes("1.50"), numberKeyBytes("15E-1"));
  assert.deepEqual(numberKeyBytes("-0"), numberKeyBytes("0"));
});

test("the longest number fits numberKeyBytesMax", () => {
  assert.equal(numberKeyBytes(`-${"9".repeat(38)}`).length, numberKeyBytesMax);
});

test("law: number key bytes preserve numeric order", () => {
  fc.assert(
    fc.property(dynamoNumberText, dynamoNumberText, (a, b) => sign(compareBytes(numberKeyBytes(a), numberKeyBytes(b))) === sign(compareNumbers(a, b))),
    { numRuns: 300, seed: 11 },
  );
});

test("law: number key bytes decode to the normalised number", () => {
  fc.assert(fc.property(dynamoNumberText, (text) => numberFromKeyBytes(numberKeyBytes(text)) === normalized(text)), { numRuns: 300, seed: 12 });
});

test("law: string key bytes preserve UTF-8 order and round-trip", () => {
  fc.assert(
    fc.property(fc.string({ unit: "grapheme" }), fc.string({ unit: "grapheme" }), (a, b) => {
      assert.equal(sign(compareBytes(keyBytes({ S: a }), keyBytes({ S: b }))), sign(compareStrings(a, b)));
      assert.deepEqual(keyFromBytes("S", keyBytes({ S: a })), { S: a });
    }),
    { numRuns: 200, seed: 13 },
  );
});

test("law: string comparison agrees with comparing UTF-8 bytes, across the whole code space", () => {
  const text = fc.string({ unit: fc.constantFrom("a", "z", "\u00e9", "\u07ff", "\ud7ff", "\ue000", "\uffff", "\u{10000}", "\u{1f600}", "\u{10ffff}"), maxLength: 6 });
  fc.assert(
    fc.property(text, text, (a, b) => sign(compareStrings(a, b)) === sign(compareBytes(new TextEncoder().encode(a), new TextEncoder().encode(b)))),
    { numRuns: 300, seed: 14 },
  );
});

test("strings order by UTF-8 bytes, not UTF-16 code units", () => {
  // U+FF61 is one UTF-16 unit above the surrogates of U+1F600, but below it in UTF-8.
  assert.ok(compareStrings("\uFF61", "\u{1F600}") < 0);
  assert.ok(compareBytes(keyBytes({ S: "\uFF61" }), keyBytes({ S: "\u{1F600}" })) < 0);
});

test("binary keys are their bytes and round-trip", () => {
  const bytes = Uint8Array.of(0, 255, 1);
  assert.deepEqual(keyBytes({ B: bytes }), bytes);
  assert.deepEqual(keyFromBytes("B", bytes), { B: bytes });
  assert.deepEqual(keyFromBytes("N", keyBytes({ N: "-12.5" })), { N: "-12.5" });
});

test("a string key's bytes are its UTF-8 bytes, ASCII or not, short or long", () => {
  const encoder = new TextEncoder();
  const samples = ["", "k", "k0123", "a".repeat(64), "b".repeat(65), "é", "ke\u007f", "ke\u0080y", "日本", "\ud83d\ude00", "lone \ud800", `${"x".repeat(63)}é`, "x".repeat(2048)];
  for (const text of samples) assert.deepEqual(stringKeyBytes(text), encoder.encode(text), JSON.stringify(text.slice(0, 20)));
  fc.assert(
    fc.property(fc.string({ maxLength: 80, unit: "binary" }), (text) => {
      assert.deepEqual(stringKeyBytes(text), encoder.encode(text));
      assert.deepEqual(keyBytes({ S: text }), encoder.encode(text));
    }),
    { numRuns: 500, seed: 11 },
  );
});
