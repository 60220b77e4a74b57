import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { addNumbers, compareNumbers, normalizeNumber, numberMessages, subtractNumbers } from "./dynamo-number.js";
import { dynamoNumberText } from "./dynamo-number-arbitrary.js";

function normalized(text: string): string {
  const result = normalizeNumber(text);
  assert.ok(result.ok, `${text}: ${result.ok ? "" : result.error.message}`);
  return result.value;
}

function refusal(result: { ok: boolean; error?: { message: string } }): string {
  assert.equal(result.ok, false);
  return result.error!.message;
}

test("numbers are normalised: no leading or trailing zeros, no exponent, -0 is 0", () => {
  const cases: [string, string][] = [
    ["0", "0"], ["-0", "0"], ["000", "0"], ["0.000", "0"], ["+5", "5"], ["007", "7"], ["1.50", "1.5"], ["-01.50", "-1.5"],
    ["1e3", "1000"], ["1E+3", "1000"], ["1.5e-3", "0.0015"], [".5", "0.5"], ["5.", "5"], ["-12.345E2", "-1234.5"], ["100", "100"],
    ["1E-130", `0.${"0".repeat(129)}1`], ["123.456e-1", "12.3456"],
  ];
  for (const [input, expected] of cases) assert.equal(normalized(input), expected, input);
});

test("text that is not a number is refused with DynamoDB's message", () => {
  for (const text of ["", "abc", "1e", "--1", "1.2.3", " 1", "Infinity", "NaN", "0x10", "."]) {
    assert.equal(refusal(normalizeNumber(text)), numberMessages.notNumeric(text), text);
  }
});

test("38 significant digits are kept and 39 are refused", () => {
  const digits38 = "1".repeat(38);
  assert.equal(normalized(digits38), digits38);
  assert.equal(normalized(`${digits38}000`), `${digits38}000`);
  assert.equal(normalized(`0.000${digits38}`), `0.000${digits38}`);
  assert.equal(refusal(normalizeNumber("1".repeat(39))), "Attempting to store more than 38 significant digits in a Number");
});

test("magnitudes outside 1E-130 .. 9.99E+125 overflow or underflow", () => {
  assert.equal(normalized("9.9999999999999999999999999999999999999E+125").length, 126);
  assert.equal(refusal(normalizeNumber("1E+126")), "Number overflow. Attempting to store a number with magnitude larger than supported range");
  assert.equal(refusal(normalizeNumber("-1E+126")), "Number overflow. Attempting to store a number with magnitude larger than supported range");
  assert.equal(refusal(normalizeNumber("1E-131")), "Number underflow. Attempting to store a number with magnitude smaller than supported range");
  assert.equal(refusal(normalizeNumber("1E-99999999999")), "Number underflow. Attempting to store a number with magnitude smaller than supported range");
  assert.equal(refusal(normalizeNumber("1E99999999999")), "Number overflow. Attempting to store a number with magnitude larger than supported range");
  assert.equal(normalized("0E99999999999"), "0");
});

test("addition and subtraction are exact", () => {
  assert.deepEqual(addNumbers("0.1", "0.2"), { ok: true, value: "0.3" });
  assert.deepEqual(addNumbers("12345678901234567890123456789012345678", "1"), { ok: true, value: "12345678901234567890123456789012345679" });
  assert.deepEqual(subtractNumbers("1", "1"), { ok: true, value: "0" });
  assert.deepEqual(subtractNumbers("-1.5", "2.25"), { ok: true, value: "-3.75" });
  assert.deepEqual(addNumbers("1E+125", "1E-100").ok, false);
});

test("a sum past the range overflows as DynamoDB reports it", () => {
  assert.equal(refusal(addNumbers("9.9999999999999999999999999999999999999E+125", "1E+125")), numberMessages.overflow);
});

test("a sum needing more than 38 digits is refused", () => {
  assert.equal(refusal(addNumbers("1E+37", "0.1")), numberMessages.digits);
});

test("comparison is numeric, not textual", () => {
  assert.ok(compareNumbers("9", "10") < 0);
  assert.ok(compareNumbers("-10", "-9") < 0);
  assert.ok(compareNumbers("1.5", "1.25") > 0);
  assert.equal(compareNumbers("1000", "1000"), 0);
  assert.ok(compareNumbers("-0.001", "0") < 0);
});

test("law: normalisation is idempotent", () => {
  fc.assert(fc.property(dynamoNumberText, (text) => normalized(normalized(text)) === normalized(text)), { numRuns: 200, seed: 5 });
});

test("law: a normalised number compares equal to its source", () => {
  fc.assert(fc.property(dynamoNumberText, (text) => compareNumbers(text, normalized(text)) === 0), { numRuns: 200, seed: 6 });
});

test("law: comparison is antisymmetric and agrees with subtraction's sign", () => {
  fc.assert(
    fc.property(dynamoNumberText, dynamoNumberText, (a, b) => {
      const order = compareNumbers(a, b);
      assert.ok(Math.sign(compareNumbers(b, a)) === -Math.sign(order), "antisymmetric");
      const difference = subtractNumbers(a, b);
      if (difference.ok) assert.equal(Math.sign(compareNumbers(difference.value, "0")), Math.sign(order));
    }),
    { numRuns: 200, seed: 7 },
  );
});

test("law: (a + b) - b is a when both steps stay in range", () => {
  fc.assert(
    fc.property(dynamoNumberText, dynamoNumberText, (a, b) => {
      const sum = addNumbers(a, b);
      if (!sum.ok) return;
      const back = subtractNumbers(sum.value, b);
      if (back.ok) assert.equal(back.value, normalized(a));
    }),
    { numRuns: 200, seed: 8 },
  );
});
