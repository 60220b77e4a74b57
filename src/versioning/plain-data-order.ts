import { assert } from "../assert.js";

/**
 * A total order on plain data (what MessagePack carries: null, booleans, numbers, bigints,
 * strings, byte arrays, arrays and plain objects). A dotted version vector set needs it
 * where no dot tells two values apart: anonymous values are kept as a sorted set, so that
 * merging replicas in any order, any number of times, gives the same structure; and the
 * last-writer-wins tie-break must not depend on which replica answered first.
 *
 * Types order by rank (null/undefined < boolean < number < string < bytes < array < object);
 * within a type by value, arrays and bytes lexicographically, objects by their sorted keys
 * and then their values. Equal under this order means structurally equal.
 */
export function comparePlainData(a: unknown, b: unknown): number {
  const rankA = rankOf(a);
  const rankB = rankOf(b);
  if (rankA !== rankB) return rankA - rankB;
  switch (rankA) {
    case Rank.Nothing:
      return 0;
    case Rank.Boolean:
      return Number(a) - Number(b);
    case Rank.Number:
      return compareNumbers(a as number | bigint, b as number | bigint);
    case Rank.String:
      return compareStrings(a as string, b as string);
    case Rank.Bytes:
      return compareBytes(a as Uint8Array, b as Uint8Array);
    case Rank.Array:
      return compareArrays(a as readonly unknown[], b as readonly unknown[]);
    default:
      return compareObjects(a as Record<string, unknown>, b as Record<string, unknown>);
  }
}

const enum Rank {
  Nothing,
  Boolean,
  Number,
  String,
  Bytes,
  Array,
  Object,
}

function rankOf(value: unknown): Rank {
  if (value === null || value === undefined) return Rank.Nothing;
  switch (typeof value) {
    case "boolean":
      return Rank.Boolean;
    case "number":
    case "bigint":
      return Rank.Number;
    case "string":
      return Rank.String;
  }
  if (value instanceof Uint8Array) return Rank.Bytes;
  if (Array.isArray(value)) return Rank.Array;
  const prototype: unknown = Object.getPrototypeOf(value);
  assert(
    typeof value === "object" && (prototype === Object.prototype || prototype === null),
    `comparePlainData: ${Object.prototype.toString.call(value)} is not plain data`,
  );
  return Rank.Object;
}

function compareNumbers(a: number | bigint, b: number | bigint): number {
  // NaN equals NaN and sorts first, so the order stays total.
  const nanA = typeof a === "number" && Number.isNaN(a);
  const nanB = typeof b === "number" && Number.isNaN(b);
  if (nanA || nanB) return Number(nanB) - Number(nanA);
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}

function compareArrays(a: readonly unknown[], b: readonly unknown[]): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const order = comparePlainData(a[i], b[i]);
    if (order !== 0) return order;
  }
  return a.length - b.length;
}

function compareObjects(a: Record<string, unknown>, b: Record<string, unknown>): number {
  const keysA = Object.keys(a).sort();
  const keysB = Object.keys(b).sort();
  const keyOrder = compareArrays(keysA, keysB);
  if (keyOrder !== 0) return keyOrder;
  for (const key of keysA) {
    const order = comparePlainData(a[key], b[key]);
    if (order !== 0) return order;
  }
  return 0;
}
