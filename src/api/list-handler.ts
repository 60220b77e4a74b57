import type { IncomingMessage } from "node:http";
import { badRequest } from "../errors.js";
import type { Limits } from "../limits.js";
import { ITEM_KEY_ENCODED_BYTES_MAX, encodedItemKeyLength } from "../storage/item-key.js";
import { requireTable, storeError, type ApiContext } from "./api-context.js";
import { expiresAt } from "./item-handlers.js";
import type { RouteMatch } from "./route-match.js";
import { decodeCursor, encodeCursor } from "./list-cursor.js";
import { sendJson } from "./respond.js";
import type { ShoalResponse } from "./shoal-response.js";
import { hlcPhysicalMs } from "../versioning/hybrid-logical-clock.js";

/**
 * `GET /v1/tables/{t}/items?prefix=&cursor=&limit=`: one bounded page of keys in byte order
 * with their size, content type, metadata, expiry, ETag and Last-Modified.
 *
 * Example: `curl 'localhost:8000/v1/tables/cart/items?prefix=user1/&limit=2'` ->
 * `{"items": [{"key": "user1/a", "size": 3, ...}, ...], "cursor": "AXVzZXIxL2I"}`
 */
export interface ListQuery {
  prefix: Uint8Array;
  after?: Uint8Array;
  limit: number;
}

export async function listItems(context: ApiContext, _req: IncomingMessage, res: ShoalResponse, match: RouteMatch): Promise<void> {
  const table = requireTable(context, match.table);
  const query = parseListQuery(match.query, context.limits);
  const result = await context.items.list(table, query);
  if (!result.ok) throw storeError(result.error, `cannot list table "${table.name}"`);
  const page = result.value;
  const items = page.items.map(({ key, item }) => ({
    key: Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("utf8"),
    size: item.value.byteLength,
    contentType: item.contentType,
    metadata: item.metadata,
    expiresAt: expiresAt(item),
    etag: `"${item.version}"`,
    lastModified: new Date(hlcPhysicalMs(item.timestamp)).toISOString(),
  }));
  sendJson(res, 200, { items, cursor: page.resumeAfter === null ? null : encodeCursor(page.resumeAfter) });
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
