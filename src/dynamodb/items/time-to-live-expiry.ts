import type { Item } from "../model/attribute-value.js";
import type { DynamoTable } from "../tables/dynamo-table.js";

/**
 * DynamoDB's TTL rule (developer guide, "Time to Live"): with TTL enabled on the table, an item
 * whose TTL attribute is a number of seconds since the epoch at or before now has expired.
 * Items without the attribute, or with a value of another type, never expire. DynamoDB also
 * ignores values more than five years in the past; so does Shoal.
 */
const ignoredPastSeconds = 5 * 365 * 24 * 3600;

export function isExpired(table: DynamoTable, item: Item, nowMs: number): boolean {
  const ttl = table.metadata.timeToLive;
  if (ttl === null || !ttl.enabled) return false;
  const value = item[ttl.attributeName];
  if (value === undefined || !("N" in value)) return false;
  const seconds = Number(value.N);
  if (!Number.isFinite(seconds)) return false;
  const nowSeconds = nowMs / 1000;
  return seconds <= nowSeconds && seconds > nowSeconds - ignoredPastSeconds;
}
