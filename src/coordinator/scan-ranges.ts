import type { TableDefinition } from "../catalog/table-definition.js";
import type { ScanBound, ScanRange } from "../replica/sibling-scan.js";
import { compareBytes } from "../storage/byte-order.js";
import { encodeItemKey, itemKeyPrefix, partitionItemsPrefix } from "../storage/item-key.js";
import type { ItemKeyParts, ListRequest, QueryRequest } from "./item-operations.js";

/**
 * List and query requests as byte ranges over encoded item keys (storage/item-key.ts). The
 * encoding preserves order (escaping keeps bytewise order, the partition key's terminator sorts
 * below every continuation), so a bound on a sort key is the same bound on its encoded key,
 * inclusive or exclusive alike, and a sort-key prefix is a byte prefix of the encoded keys.
 */
export function listRange(table: TableDefinition, request: ListRequest, limit: number): ScanRange {
  const range: ScanRange = { prefix: itemKeyPrefix(table.id, request.prefix), reverse: false, limit };
  if (request.after !== undefined) range.low = { key: encodedKey(table, request.after), inclusive: false };
  return range;
}

export function queryRange(table: TableDefinition, request: QueryRequest, limit: number): ScanRange {
  const { partitionKey } = request;
  const prefix = request.sortKeyPrefix !== undefined && request.sortKeyPrefix.length > 0 ? encodeItemKey(table.id, partitionKey, request.sortKeyPrefix) : partitionItemsPrefix(table.id, partitionKey);
  const range: ScanRange = { prefix, reverse: request.reverse, limit };
  let low: ScanBound | undefined = request.lower && { key: encodeItemKey(table.id, partitionKey, request.lower.key), inclusive: request.lower.inclusive };
  let high: ScanBound | undefined = request.upper && { key: encodeItemKey(table.id, partitionKey, request.upper.key), inclusive: request.upper.inclusive };
  if (request.after !== undefined) {
    const after: ScanBound = { key: encodeItemKey(table.id, partitionKey, request.after), inclusive: false };
    if (request.reverse) high = tighter(high, after, -1);
    else low = tighter(low, after, 1);
  }
  if (low !== undefined) range.low = low;
  if (high !== undefined) range.high = high;
  return range;
}

export function encodedKey(table: TableDefinition, key: ItemKeyParts): Uint8Array {
  return encodeItemKey(table.id, key.partitionKey, key.sortKey);
}

/** The narrower of two bounds on one side: `side` 1 for a low bound (larger wins), -1 for a high one. */
function tighter(current: ScanBound | undefined, next: ScanBound, side: 1 | -1): ScanBound {
  if (current === undefined) return next;
  const c = compareBytes(next.key, current.key) * side;
  if (c > 0) return next;
  if (c < 0) return current;
  return current.inclusive ? next : current;
}
