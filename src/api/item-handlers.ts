import { notFound, payloadTooLarge } from "../errors.js";
import type { ItemKeyParts, ItemRead, ItemVersion } from "../coordinator/item-operations.js";
import { hlcPhysicalMs } from "../versioning/hybrid-logical-clock.js";
import { describeKey, requireTable, storeError, type ApiContext } from "./api-context.js";
import { expiryFromRequest, metadataFromHeaders, metadataHeaderPrefix, parseEtagList, parseKeySegment } from "./item-request.js";
import { contextHeader, readOptionsFromRequest, writeOptionsFromRequest } from "./request-options.js";
import type { RouteMatch } from "./route-match.js";
import { readBody } from "./read-body.js";
import { httpDate } from "./http-date.js";
import { sendError, sendJson } from "./respond.js";
import { siblingJson } from "./sibling-json.js";
import type { ShoalRequest, ShoalResponse } from "./shoal-response.js";

/**
 * GET, HEAD, PUT and DELETE of one item: the value travels as the raw body, everything else
 * as headers; no JSON on this path unless the item has siblings.
 *
 *   curl -XPUT localhost:8000/v1/tables/cart/items/user1%2Fa -H 'content-type: text/plain' \
 *        -H 'x-shoal-meta-owner: ana' -H 'x-shoal-expires-in: 3600' -H 'if-none-match: *' -d hello
 *     -> 201, ETag: "<version>", Last-Modified, X-Shoal-Context: <context>
 *   curl -i localhost:8000/v1/tables/cart/items/user1%2Fa   -> hello, with the same headers
 *   curl -XDELETE localhost:8000/v1/tables/cart/items/user1%2Fa -H 'if-match: "<version>"'  -> 204
 *
 * Reads (issue 3 item 4): `?r=`, `?pr=`, `?consistency=strong|eventual`. Every answer carries
 * the causal context in X-Shoal-Context when the replicas held anything for the key (a 404 too,
 * when only tombstones were seen). One live version answers 200 with the bytes; several
 * (siblings) answer `300 Multiple Choices` with `{"siblings": [SiblingJson, ...]}` (see
 * sibling-json.ts) and, from limits.siblingsWarn siblings on, a `Warning: 199 shoal "..."`
 * header; a PUT or DELETE carrying that context replaces exactly the siblings it saw
 * (If-None-Match on a read answers 304 only for a single version: siblings always list). An
 * eventual read of a strong table adds X-Shoal-Stale-Max-Ms when the replica can bound the age.
 *
 * Writes: `?w=`, `?dw=`, `?pw=`, X-Shoal-Context, If-Match / If-None-Match (atomic on strong
 * tables, best effort on eventual ones). Every check that can refuse the request runs before
 * the coordinator is asked to write, so a refused request changes nothing.
 */
const defaultContentType = "application/octet-stream";
const staleMaxHeader = "x-shoal-stale-max-ms";

export async function getItem(context: ApiContext, req: ShoalRequest, res: ShoalResponse, match: RouteMatch): Promise<void> {
  const table = requireTable(context, match.table);
  const key: ItemKeyParts = { partitionKey: parseKeySegment(match.key, context.limits) };
  const options = readOptionsFromRequest(match.query);
  const result = await context.items.get(table, key, options);
  if (!result.ok) throw storeError(result.error, `cannot read ${describeKey(table, key)}`);
  const read = result.value;
  const headers = readHeaders(read);
  if (read.siblings.length === 0) {
    sendError(res, notFound("ItemNotFound", `item ${describeKey(table, key)} does not exist`), headers);
    return;
  }
  if (read.siblings.length > 1) {
    answerSiblings(context, res, read, headers);
    return;
  }
  const item = read.siblings[0]!;
  const etag = `"${item.version}"`;
  const ifNoneMatch = rawHeader(req.rawHeaders, "if-none-match");
  if (ifNoneMatch !== undefined && etagListMatches(ifNoneMatch, item.version)) {
    res.writeHead(304, { ...headers, etag, "last-modified": lastModified(item) });
    res.end();
    return;
  }
  res.writeHead(200, addItemHeaders(headers, item, etag));
  if (req.method === "HEAD") res.end();
  else endWithValue(res, item.value);
}

/** Values up to this many bytes leave in one socket write with the head (endWithValue). */
export const oneWriteValueBytesMax = 16 * 1024;

/**
 * Ends a response with `value` as its body. node:http sends a Buffer body as a second chunk
 * after the head (a writev of two); a latin1 string is joined to the head and leaves in one
 * write. Latin1 maps every byte to one character and back, so the bytes on the wire are the
 * value's exactly; past `bytesMax` the copy into a string costs more than it saves.
 */
export function endWithValue(res: Pick<ShoalResponse, "end">, value: Uint8Array, bytesMax = oneWriteValueBytesMax): void {
  if (value.byteLength > bytesMax) res.end(value);
  else res.end(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("latin1"), "latin1");
}

export async function putItem(context: ApiContext, req: ShoalRequest, res: ShoalResponse, match: RouteMatch): Promise<void> {
  const { limits } = context;
  const table = requireTable(context, match.table);
  const key: ItemKeyParts = { partitionKey: parseKeySegment(match.key, limits) };
  const metadata = metadataFromHeaders(req.headers, limits);
  const expiresAtMs = expiryFromRequest(req.headers, match.query, limits, context.clock.nowMs());
  const options = writeOptionsFromRequest(req.headers, match.query);
  const value = await readBody(req, res, limits.valueBytesMax, (bytes, exact) =>
    payloadTooLarge("ValueTooLarge", `value is ${exact ? "" : "more than "}${exact ? bytes : limits.valueBytesMax} bytes; the limit is ${limits.valueBytesMax}`),
  );
  const write = { value, contentType: req.headers["content-type"] ?? defaultContentType, metadata, expiresAtMs };
  const result = await context.items.put(table, key, write, options);
  if (!result.ok) throw storeError(result.error, `cannot write ${describeKey(table, key)}`);
  const { item, created } = result.value;
  const headers: Record<string, string> = { etag: `"${item.version}"`, "last-modified": lastModified(item), "content-length": "0" };
  if (result.value.context !== "") headers[contextHeader] = result.value.context;
  res.writeHead(created ? 201 : 200, headers);
  res.end();
}

export async function deleteItem(context: ApiContext, req: ShoalRequest, res: ShoalResponse, match: RouteMatch): Promise<void> {
  const table = requireTable(context, match.table);
  const key: ItemKeyParts = { partitionKey: parseKeySegment(match.key, context.limits) };
  const result = await context.items.delete(table, key, writeOptionsFromRequest(req.headers, match.query));
  if (!result.ok) throw storeError(result.error, `cannot delete ${describeKey(table, key)}`);
  if (!result.value.existed) throw notFound("ItemNotFound", `item ${describeKey(table, key)} does not exist`);
  res.writeHead(204);
  res.end();
}

/** The headers every read answer carries: the causal context and, if known, the staleness bound. */
function readHeaders(read: ItemRead): Record<string, string> {
  const headers: Record<string, string> = {};
  if (read.context !== "") headers[contextHeader] = read.context;
  if (read.staleMaxMs !== undefined) headers[staleMaxHeader] = String(read.staleMaxMs);
  return headers;
}

/** `300 Multiple Choices` listing every sibling; HEAD gets the same status and headers. */
function answerSiblings(context: ApiContext, res: ShoalResponse, read: ItemRead, headers: Record<string, string>): void {
  const count = read.siblings.length;
  if (count >= context.limits.siblingsWarn) {
    headers.warning = `199 shoal "${count} siblings (warning at ${context.limits.siblingsWarn}, refused past ${context.limits.siblingsMax}); resolve them with a write carrying X-Shoal-Context"`;
  }
  sendJson(res, 300, { siblings: read.siblings.map(siblingJson) }, headers);
}

export function lastModified(item: ItemVersion): string {
  return httpDate(hlcPhysicalMs(item.timestamp));
}

export function expiresAt(item: ItemVersion): string | null {
  return item.expiresAtMs === null ? null : new Date(item.expiresAtMs).toISOString();
}

/** Adds one version's headers to `headers` (a read's own object: no copy per request) and returns it. */
function addItemHeaders(headers: Record<string, string>, item: ItemVersion, etag: string): Record<string, string> {
  headers["content-type"] = item.contentType;
  headers["content-length"] = String(item.value.byteLength);
  headers.etag = etag;
  headers["last-modified"] = lastModified(item);
  for (const name in item.metadata) headers[metadataHeaderPrefix + name] = item.metadata[name]!;
  if (item.expiresAtMs !== null) headers["x-shoal-expires-at"] = new Date(item.expiresAtMs).toISOString();
  return headers;
}

/**
 * A request header by its lower-case name, read from the raw list as node:http joins repeats
 * (", "), without `req.headers`: node builds that object on first use, for every header, which
 * a GET that needs one header does not have to pay for.
 */
export function rawHeader(rawHeaders: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const raw = rawHeaders[i]!;
    if (raw.length !== name.length || raw.toLowerCase() !== name) continue;
    value = value === undefined ? rawHeaders[i + 1]! : `${value}, ${rawHeaders[i + 1]!}`;
  }
  return value;
}

function etagListMatches(header: string, version: string): boolean {
  const tags = parseEtagList(header);
  return tags === "*" || tags.includes(version);
}
