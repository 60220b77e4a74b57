import { compareBytes } from "../../storage/byte-order.js";
import type { AttributeValue } from "./attribute-value.js";
import { compareNumbers } from "./dynamo-number.js";

/**
 * DynamoDB's comparisons (developer guide, "Comparison operator and function reference"):
 * numbers compare numerically, strings by their UTF-8 bytes, binaries bytewise. Other types
 * and mixed types have no order: `compareScalars` answers undefined and the comparison is
 * false. Equality is defined for every type: sets compare as sets, maps and lists deeply.
 */
export function compareScalars(a: AttributeValue, b: AttributeValue): number | undefined {
  if ("N" in a && "N" in b) return compareNumbers(a.N, b.N);
  if ("S" in a && "S" in b) return compareStrings(a.S, b.S);
  if ("B" in a && "B" in b) return compareBytes(a.B, b.B);
  return undefined;
}

/**
 * UTF-8 byte order of two strings. UTF-16 code unit order agrees with it except where a
 * surrogate (a character above U+FFFF) meets a unit from U+E000..U+FFFF, so strings are
 * compared unit by unit and only encoded when the first difference involves such units.
 */
export function compareStrings(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x < 0xd800 && y < 0xd800) return x - y;
    // Encode from the start of the character: the previous unit may be its high surrogate.
    const start = i > 0 && isHighSurrogate(a.charCodeAt(i - 1)) ? i - 1 : i;
    const encoder = new TextEncoder();
    return compareBytes(encoder.encode(a.slice(start)), encoder.encode(b.slice(start)));
  }
  return a.length - b.length;
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

export function attributeValuesEqual(a: AttributeValue, b: AttributeValue): boolean {
  if ("S" in a) return "S" in b && a.S === b.S;
  if ("N" in a) return "N" in b && compareNumbers(a.N, b.N) === 0;
  if ("B" in a) return "B" in b && compareBytes(a.B, b.B) === 0;
  if ("BOOL" in a) return "BOOL" in b && a.BOOL === b.BOOL;
  if ("NULL" in a) return "NULL" in b;
  if ("M" in a) return "M" in b && mapsEqual(a.M, b.M);
  if ("L" in a) return "L" in b && a.L.length === b.L.length && a.L.every((v, i) => attributeValuesEqual(v, b.L[i]!));
  if ("SS" in a) return "SS" in b && setsEqual(a.SS, b.SS, (x) => x);
  // Numbers in the model are normalised, so equal numbers have equal text.
  if ("NS" in a) return "NS" in b && setsEqual(a.NS, b.NS, (x) => x);
  return "BS" in b && setsEqual(a.BS, b.BS, (x) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString("base64"));
}

function mapsEqual(a: Readonly<Record<string, AttributeValue>>, b: Readonly<Record<string, AttributeValue>>): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => Object.hasOwn(b, key) && attributeValuesEqual(a[key]!, b[key]!));
}

/** Sets hold no duplicates, so equal sizes and inclusion one way mean equality. */
function setsEqual<T>(a: readonly T[], b: readonly T[], key: (member: T) => string): boolean {
  if (a.length !== b.length) return false;
  const keys = new Set(b.map(key));
  return a.every((member) => keys.has(key(member)));
}
