import type { AttributeValue, Item } from "./attribute-value.js";
import { ok, validationError, type Result } from "./validation-error.js";

/**
 * DynamoDB's item size (developer guide, "Item sizes and formats"): the sum of attribute name
 * lengths and value sizes, in UTF-8 bytes. Strings and binaries count their bytes; a number
 * about one byte per two significant digits plus one (`numberSize`); BOOL and NULL one byte; a map or
 * list three bytes of overhead plus one per element (plus names for maps); a set the sum of its
 * members. The size decides the 400 KB item limit and the capacity units consumed.
 */
export const itemBytesMax = 400 * 1024;

export const itemSizeMessage = "Item size has exceeded the maximum allowed size";

/** UTF-8 bytes of a string (an unpaired surrogate counts as U+FFFD, 3 bytes, as TextEncoder writes it). */
export function utf8Length(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/**
 * A number's bytes. The guide says "one byte per two significant digits plus one"; measured
 * against DynamoDB (the 400 KB gate resolves to the byte; nubo-db/dynamodb-conformance,
 * tests/tier3/limits/numberByteSize), the integer and fraction halves are counted apart, each
 * rounded up, plus one for a negative sign: 1 + ceil(integer digits / 2) + ceil(fraction
 * digits / 2) + (negative ? 1 : 0), over the digits between the outermost non-zero ones.
 * So 3.14159 costs 5 and 123456 costs 4. Takes a normalised number (dynamo-number.ts).
 */
export function numberSize(number: string): number {
  if (number === "0") return 1;
  const negative = number.startsWith("-");
  const [whole = "", fraction = ""] = (negative ? number.slice(1) : number).split(".");
  const integer = whole.replace(/^0+/, "");
  const integerDigits = fraction === "" ? integer.replace(/0+$/, "").length : integer.length;
  const fractionDigits = integer === "" ? fraction.replace(/^0+/, "").length : fraction.length;
  return 1 + Math.ceil(integerDigits / 2) + Math.ceil(fractionDigits / 2) + (negative ? 1 : 0);
}

export function attributeValueSize(value: AttributeValue): number {
  if ("S" in value) return utf8Length(value.S);
  if ("N" in value) return numberSize(value.N);
  if ("B" in value) return value.B.length;
  if ("BOOL" in value || "NULL" in value) return 1;
  if ("M" in value) return 3 + attributesSize(value.M) + Object.keys(value.M).length;
  if ("L" in value) return 3 + value.L.reduce((sum, member) => sum + attributeValueSize(member) + 1, 0);
  if ("SS" in value) return value.SS.reduce((sum, member) => sum + utf8Length(member), 0);
  if ("NS" in value) return value.NS.reduce((sum, member) => sum + numberSize(member), 0);
  return value.BS.reduce((sum, member) => sum + member.length, 0);
}

function attributesSize(attributes: Readonly<Record<string, AttributeValue>>): number {
  let size = 0;
  for (const [name, value] of Object.entries(attributes)) size += utf8Length(name) + attributeValueSize(value);
  return size;
}

/** The size of an item by DynamoDB's rules, in bytes. */
export function itemSize(item: Item): number {
  return attributesSize(item);
}

/** The item's size, or DynamoDB's refusal when it passes `itemBytesMax` (PutItem, BatchWriteItem). */
export function checkItemSize(item: Item): Result<number> {
  const size = itemSize(item);
  return size > itemBytesMax ? validationError(itemSizeMessage) : ok(size);
}
