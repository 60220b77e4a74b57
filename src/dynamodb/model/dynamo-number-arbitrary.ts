import fc from "fast-check";
import { numberDigitsMax, numberExponentMax, numberExponentMin } from "./dynamo-number.js";

/**
 * fast-check generators of DynamoDB numbers for the property tests of the model and the
 * expressions: every sign, digit count and exponent DynamoDB allows, written in scientific
 * notation with leading zeros sometimes, so normalisation has work to do. Small integers are
 * mixed in, since equal and adjacent values are where order bugs hide.
 */
const digitString = fc
  .tuple(fc.integer({ min: 1, max: 9 }), fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: numberDigitsMax - 1 }))
  .map(([first, rest]) => `${first}${rest.join("")}`);

const scientific = fc
  .record({
    negative: fc.boolean(),
    digits: digitString,
    leading: fc.integer({ min: numberExponentMin, max: numberExponentMax }),
    zeros: fc.integer({ min: 0, max: 2 }),
  })
  .map(({ negative, digits, leading, zeros }) => `${negative ? "-" : ""}${"0".repeat(zeros)}${digits[0]}.${digits.slice(1)}E${leading}`);

const smallInteger = fc.integer({ min: -1000, max: 1000 }).map(String);

export const dynamoNumberText = fc.oneof(scientific, smallInteger, fc.constantFrom("0", "-0", "0.0", "1E-130", "-1E-130", "9.9999999999999999999999999999999999999E+125"));
