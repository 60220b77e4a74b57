import fc from "fast-check";
import type { AttributeValue, Item } from "./attribute-value.js";
import { normalizeNumber } from "./dynamo-number.js";
import { dynamoNumberText } from "./dynamo-number-arbitrary.js";

/**
 * fast-check generators of valid attribute values and items (normalised numbers, sets
 * without duplicates, shallow nesting), for round-trip laws of the JSON and storage codecs
 * and of the expression evaluators.
 */
const normalizedNumber = dynamoNumberText.map((text) => {
  const result = normalizeNumber(text);
  if (!result.ok) throw new Error(`generator made an invalid number: ${text}`);
  return result.value;
});

const bytes = fc.uint8Array({ maxLength: 8 });
const name = fc.string({ minLength: 1, maxLength: 6 });

function uniqueBy<T>(items: T[], key: (item: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const item of items) if (!seen.has(key(item))) seen.set(key(item), item);
  return [...seen.values()];
}

const scalar: fc.Arbitrary<AttributeValue> = fc.oneof(
  fc.string({ maxLength: 8 }).map((S) => ({ S })),
  normalizedNumber.map((N) => ({ N })),
  bytes.map((B) => ({ B })),
  fc.boolean().map((BOOL) => ({ BOOL })),
  fc.constant({ NULL: true as const }),
  fc.array(fc.string({ maxLength: 4 }), { minLength: 1, maxLength: 4 }).map((m) => ({ SS: [...new Set(m)] })),
  fc.array(normalizedNumber, { minLength: 1, maxLength: 4 }).map((m) => ({ NS: [...new Set(m)] })),
  fc.array(bytes, { minLength: 1, maxLength: 4 }).map((m) => ({ BS: uniqueBy(m, (b) => Buffer.from(b).toString("hex")) })),
);

export const attributeValue: fc.Arbitrary<AttributeValue> = fc.letrec<{ value: AttributeValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    scalar,
    fc.array(tie("value"), { maxLength: 3 }).map((L) => ({ L })),
    fc.dictionary(name, tie("value"), { maxKeys: 3 }).map((M) => ({ M })),
  ),
})).value;

export const item: fc.Arbitrary<Item> = fc.dictionary(name, attributeValue, { maxKeys: 5 });
