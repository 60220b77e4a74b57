import { assert } from "../assert.js";
import { compareBytes, prefixEnd } from "./byte-order.js";
import type { RangeOptions } from "./storage-engine.js";

export interface Bound {
  key: Uint8Array;
  inclusive: boolean;
}

/**
 * A range request reduced to two bounds in key order, whatever the direction. RangeOptions mixes
 * three sources (start, end, prefix) whose meaning flips with `reverse`; both engines answer from
 * this one form, so they cannot disagree on what a combination means.
 */
export interface RangeBounds {
  /** Lowest key allowed; undefined = from the first key. */
  low?: Bound;
  /** Highest key allowed; undefined = to the last key. */
  high?: Bound;
  /** True when no key can satisfy both bounds. */
  empty: boolean;
  reverse: boolean;
  /** At most this many entries (Infinity when unlimited). */
  limit: number;
}

export function rangeBounds(options: RangeOptions): RangeBounds {
  const reverse = options.reverse === true;
  const limit = options.limit ?? Infinity;
  assert(limit === Infinity || (Number.isSafeInteger(limit) && limit >= 0), `range: limit must be a non-negative integer, got ${limit}`);
  // Forward: start is the inclusive low end, end the exclusive high end; reverse swaps the ends.
  const startBound = options.start === undefined ? undefined : { key: options.start, inclusive: true };
  const endBound = options.end === undefined ? undefined : { key: options.end, inclusive: false };
  let low = reverse ? endBound : startBound;
  let high = reverse ? startBound : endBound;
  if (options.prefix !== undefined && options.prefix.length > 0) {
    low = tighterLow(low, { key: options.prefix, inclusive: true });
    const end = prefixEnd(options.prefix);
    if (end !== undefined) high = tighterHigh(high, { key: end, inclusive: false });
  }
  return { low, high, empty: isEmpty(low, high) || limit === 0, reverse, limit };
}

/** Whether `key` is at or above the low bound (strictly above when it is exclusive). */
export function aboveLow(key: Uint8Array, low: Bound | undefined): boolean {
  if (low === undefined) return true;
  const order = compareBytes(key, low.key);
  return order > 0 || (order === 0 && low.inclusive);
}

/** Whether `key` is at or below the high bound (strictly below when it is exclusive). */
export function belowHigh(key: Uint8Array, high: Bound | undefined): boolean {
  if (high === undefined) return true;
  const order = compareBytes(key, high.key);
  return order < 0 || (order === 0 && high.inclusive);
}

function tighterLow(a: Bound | undefined, b: Bound): Bound {
  if (a === undefined) return b;
  const order = compareBytes(a.key, b.key);
  if (order !== 0) return order > 0 ? a : b;
  return a.inclusive ? b : a;
}

function tighterHigh(a: Bound | undefined, b: Bound): Bound {
  if (a === undefined) return b;
  const order = compareBytes(a.key, b.key);
  if (order !== 0) return order < 0 ? a : b;
  return a.inclusive ? b : a;
}

function isEmpty(low: Bound | undefined, high: Bound | undefined): boolean {
  if (low === undefined || high === undefined) return false;
  const order = compareBytes(low.key, high.key);
  return order > 0 || (order === 0 && !(low.inclusive && high.inclusive));
}
