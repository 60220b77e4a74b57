import type { IncomingMessage } from "node:http";
import { notFound, payloadTooLarge } from "../errors.js";
import type { ItemVersion } from "../coordinator/item-operations.js";
import { hlcPhysicalMs } from "../versioning/hybrid-logical-clock.js";
import { describeKey, requireTable, storeError, type ApiContext } from "./api-context.js";
import { conditionFromHeaders, expiryFromRequest, metadataFromHeaders, metadataHeaderPrefix, parseEtagList, parseKeySegment } from "./item-request.js";
import type { RouteMatch } from "./route-match.js";
import { readBody } from "./read-body.js";
import { httpDate } from "./http-date.js";
import type { ShoalResponse } from "./shoal-response.js";

/**
 * GET, HEAD, PUT and DELETE of one item: the value travels as the raw body, everything else
 * as headers; no JSON on this path.
 *
 *   curl -XPUT localhost:8000/v1/tables/cart/items/user1%2Fa -H 'content-type: text/plain' \
 *        -H 'x-shoal-meta-owner: ana' -H 'x-shoal-expires-in: 3600' -H 'if-none-match: *' -d hello
 *     -> 201, ETag: "<version>", Last-Modified
 *   curl -i localhost:8000/v1/tables/cart/items/user1%2Fa   -> hello, with the same headers
 *   curl -XDELETE localhost:8000/v1/tables/cart/items/user1%2Fa -H 'if-match: "<version>"'  -> 204
 * Every check that can refuse the request runs before the
 * coordinator is asked to write, so a refused request changes nothing.
 */
const defaultContentType = "application/octet-stream";

export async function getItem(context: ApiContext, req: IncomingMessage, res: ShoalResponse, match: RouteMatch): Promise<void> {
  const table = requireTable(context, match.table);
  const key = parseKeySegment(match.key, context.limits);
  const result = await context.items.get(table, key);
  if (!result.ok) throw storeError(result.error, `cannot read ${describeKey(table, key)}`);
  const item = result.value;
  if (item === undefined) throw notFound("ItemNotFound", `item ${describeKey(table, key)} does not exist`);
  const etag = `"${item.version}"`;
  const ifNoneMatch = req.headers["if-none-match"];
  if (ifNoneMatch !== undefined && etagListMatches(ifNoneMatch, item.version)) {
    res.writeHead(304, { etag, "last-modified": lastModified(item) });
    res.end();
    return;
  }
  res.writeHead(200, itemHeaders(item, etag));
  if (req.method === "HEAD") res.end();
  else res.end(item.value);
}

export async function putItem(context: ApiContext, req: IncomingMessage, res: ShoalResponse, match: RouteMatch): Promise<void> {
  const { limits } = context;
  const table = requireTable(context, match.table);
  const key = parseKeySegment(match.key, limits);
  const metadata = metadataFromHeaders(req.headers, limits);
  const expiresAtMs = expiryFromRequest(req.headers, match.query, limits, context.clock.nowMs());
  const condition = conditionFromHeaders(req.headers);
  const value = await readBody(req, res, limits.valueBytesMax, (bytes, exact) =>
    payloadTooLarge("ValueTooLarge", `value is ${exact ? "" : "more than "}${exact ? bytes : limits.valueBytesMax} bytes; the limit is ${limits.valueBytesMax}`),
  );
  const write = { value, contentType: req.headers["content-type"] ?? defaultContentType, metadata, expiresAtMs };
  const result = await context.items.put(table, key, write, condition);
  if (!result.ok) throw storeError(result.error, `cannot write ${describeKey(table, key)}`);
  const item = result.value.item;
  res.writeHead(result.value.created ? 201 : 200, { etag: `"${item.version}"`, "last-modified": lastModified(item), "content-length": "0" });
  res.end();
}

export async function deleteItem(context: ApiContext, req: IncomingMessage, res: ShoalResponse, match: RouteMatch): Promise<void> {
  const table = requireTable(context, match.table);
  const key = parseKeySegment(match.key, context.limits);
  const result = await context.items.delete(table, key, conditionFromHeaders(req.headers));
  if (!result.ok) throw storeError(result.error, `cannot delete ${describeKey(table, key)}`);
  res.writeHead(204);
  res.end();
}

export function lastModified(item: ItemVersion): string {
  return httpDate(hlcPhysicalMs(item.timestamp));
}

export function expiresAt(item: ItemVersion): string | null {
  return item.expiresAtMs === null ? null : new Date(item.expiresAtMs).toISOString();
}

function itemHeaders(item: ItemVersion, etag: string): Record<string, string> {
  const headers: Record<string, string> = {
    "content-type": item.contentType,
    "content-length": String(item.value.byteLength),
    etag,
    "last-modified": lastModified(item),
  };
  for (const name in item.metadata) headers[metadataHeaderPrefix + name] = item.metadata[name]!;
  if (item.expiresAtMs !== null) headers["x-shoal-expires-at"] = new Date(item.expiresAtMs).toISOString();
  return headers;
}

function etagListMatches(header: string, version: string): boolean {
  const tags = parseEtagList(header);
  return tags === "*" || tags.includes(version);
}
