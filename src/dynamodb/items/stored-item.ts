import type { ItemRead, ItemVersion } from "../../coordinator/item-operations.js";
import type { ItemWrite } from "../../replica/item-write.js";
import type { Item } from "../model/attribute-value.js";
import { decodeItem, encodeItem, itemJsonBytes, storedItemSize } from "../model/item-codec.js";
import type { DynamoTable } from "../tables/dynamo-table.js";
import { isExpired } from "./time-to-live-expiry.js";

/**
 * DynamoDB items as Shoal values: the model's codec (MessagePack with a format number) under
 * a content type of their own, so the native API shows what it is looking at. DynamoDB's TTL
 * is the front door's (a table setting applied to an attribute), so Shoal's own expiry stays
 * unused and the TTL sweeper deletes expired items.
 */
export const dynamoItemContentType = "application/vnd.shoal.dynamodb-item";

/**
 * `size`: the item's DynamoDB size when the caller measured it already (item-codec.ts keeps it);
 * `escapeFree`: the item came from a request body without escapes (protocol/escape-free.ts).
 */
export function itemWrite(item: Item, size?: number, escapeFree = false): ItemWrite {
  return { value: encodeItem(item, size, escapeFree), contentType: dynamoItemContentType, metadata: {}, expiresAtMs: null };
}

/**
 * The live item a version holds, or undefined when there is none or it has expired under the
 * table's TTL (expired items are hidden from every read, as if already deleted).
 */
export function liveItem(table: DynamoTable, version: ItemVersion | undefined, nowMs: number): Item | undefined {
  if (version === undefined) return undefined;
  const item = decodeItem(version.value);
  return isExpired(table, item, nowMs) ? undefined : item;
}

/**
 * The live item a version holds as its DynamoDB JSON (UTF-8 bytes) and size, without building
 * the model when the table has no TTL (the bytes are what item-codec.ts stored); undefined when
 * there is none or it has expired. For answers that carry the whole item (GetItem without a
 * projection, Query and Scan pages without filter or projection).
 */
export function liveItemJson(table: DynamoTable, version: ItemVersion | undefined, nowMs: number): { json: Uint8Array; size: number } | undefined {
  if (version === undefined) return undefined;
  if (table.metadata.timeToLive?.enabled === true && isExpired(table, decodeItem(version.value), nowMs)) return undefined;
  return { json: itemJsonBytes(version.value), size: storedItemSize(version.value) };
}

/**
 * A read's item. Strong tables keep one version per key; if a read ever shows several (a
 * siblings table underneath), the newest by hybrid-logical-clock timestamp is the item.
 */
export function newestVersion(read: ItemRead): ItemVersion | undefined {
  return newestOf(read.siblings);
}

export function newestOf(siblings: readonly ItemVersion[]): ItemVersion | undefined {
  let newest: ItemVersion | undefined;
  for (const version of siblings) {
    if (newest === undefined || compareTimestamps(version, newest) > 0) newest = version;
  }
  return newest;
}

function compareTimestamps(a: ItemVersion, b: ItemVersion): number {
  return a.timestamp - b.timestamp;
}
