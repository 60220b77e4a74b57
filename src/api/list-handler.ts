import { badRequest } from "../errors.js";
import type { Limits } from "../limits.js";
import { ITEM_KEY_ENCODED_BYTES_MAX, encodedItemKeyLength } from "../storage/item-key.js";
import { requireTable, storeError, type ApiContext } from "./api-context.js";
import { expiresAt } from "./item-handlers.js";
import type { RouteMatch } from "./route-match.js";
import { decodeCursor, encodeCursor } from "./list-cursor.js";
import { sendJson } from "./respond.js";
import type { ShoalRequest, ShoalResponse } from "./shoal-response.js";
import { hlcPhysicalMs } from "../versioning/hybrid-logical-clock.js";
import type { ItemKeyParts, ListedItem } from "../coordinator/item-operations.js";
import { siblingJson } from "./sibling-json.js";

/**
 * `GET /v1/tables/{t}/items?prefix=&cursor=&limit=`: one bounded page of keys in byte order
 * with their size, content type, metadata, expiry, ETag and Last-Modified.
 *
 * Example: `curl 'localhost:8000/v1/tables/cart/items?prefix=user1/&limit=2'` ->
 * `{"items": [{"key": "user1/a", "size": 3, ...}, ...], "cursor": "AXVzZXIxL2I"}`
 *
 * An item with siblings is `{"key": "user1/b", "siblings": [SiblingJson, ...]}` instead (the
 * shape of a 300 answer, sibling-json.ts); its context comes with a GET of the item. Items of
 * tables with sort keys (made through the DynamoDB API) also carry `"sortKey"` (UTF-8).
 */
export interface ListQuery {
  prefix: Uint8Array;
  after?: ItemKeyParts;
  limit: number;
}

export async function listItems(context: ApiContext, _req: ShoalRequest, res: ShoalResponse, match: RouteMatch): Promise<void> {
  const table = requireTable(context, match.table);
  const query = parseListQuery(match.query, context.limits);
  const result = await context.items.list(table, query);
  if (!result.ok) throw storeError(result.error, `cannot list table "${table.name}"`);
  const page = result.value;
  const items = page.items.filter((item) => item.siblings.length > 0).map(listedItemJson);
  sendJson(res, 200, { items, cursor: page.resumeAfter === null ? null : encodeCursor(page.resumeAfter) });
}

function listedItemJson({ key, siblings }: ListedItem): Record<string, unknown> {
  const keyText: Record<string, unknown> = { key: utf8(key.partitionKey) };
  if (key.sortKey !== undefined) keyText.sortKey = utf8(key.sortKey);
  if (siblings.length > 1) return { ...keyText, siblings: siblings.map(siblingJson) };
  const item = siblings[0]!;
  return {
    ...keyText,
    size: item.value.byteLength,
    contentType: item.contentType,
    metadata: item.metadata,
    expiresAt: expiresAt(item),
    etag: `"${item.version}"`,
    lastModified: new Date(hlcPhysicalMs(item.timestamp)).toISOString(),
  };
}

function utf8(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
}

export function parseListQuery(queryString: string, limits: Limits): ListQuery {
  const params = new URLSearchParams(queryString);
  const prefixText = params.get("prefix") ?? "";
  const prefix = Buffer.from(prefixText, "utf8");
  if (prefix.length > limits.keyBytesMax) throw badRequest("KeyTooLong", `prefix is ${prefix.length} bytes; the limit is ${limits.keyBytesMax}`);
  const encodedBytes = encodedItemKeyLength(prefix);
  if (encodedBytes > ITEM_KEY_ENCODED_BYTES_MAX) {
    throw badRequest("KeyTooLong", `prefix is ${prefix.length} bytes but encodes to ${encodedBytes} (each NUL byte counts twice); the limit is ${ITEM_KEY_ENCODED_BYTES_MAX} encoded bytes`);
  }
  const limitText = params.get("limit");
  let limit = limits.listPageItemsDefault;
  if (limitText !== null) {
    limit = /^[0-9]{1,9}$/.test(limitText) ? Number(limitText) : NaN;
    if (!(limit >= 1 && limit <= limits.listPageItemsMax)) {
      throw badRequest("InvalidLimit", `limit must be a whole number from 1 to ${limits.listPageItemsMax}, got "${limitText.slice(0, 32)}"`);
    }
  }
  const query: ListQuery = { prefix: new Uint8Array(prefix.buffer, prefix.byteOffset, prefix.length), limit };
  const cursor = params.get("cursor");
  if (cursor !== null && cursor !== "") query.after = decodeCursor(cursor, { keyBytesMax: limits.keyBytesMax, prefix: query.prefix });
  return query;
}
