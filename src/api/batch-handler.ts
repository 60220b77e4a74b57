import type { IncomingMessage } from "node:http";
import type { ItemVersion } from "../coordinator/item-operations.js";
import { requireTable, storeError, type ApiContext } from "./api-context.js";
import { parseBatchRequest } from "./batch-request.js";
import { expiresAt } from "./item-handlers.js";
import { readJsonBody } from "./json-body.js";
import type { RouteMatch } from "./route-match.js";
import { sendJson } from "./respond.js";
import type { ShoalResponse } from "./shoal-response.js";
import { hlcPhysicalMs } from "../versioning/hybrid-logical-clock.js";

/**
 * Answers a batch's gets and applies its writes atomically on this node (one storage write).
 * Response: `{"get": [{"key", "found", "valueBase64", "value"?, ...}], "put": [{"key", "etag",
 * "lastModified"}], "delete": [{"key", "deleted"}]}`; `value` (UTF-8) is given for text and
 * JSON content types.
 */
export async function runBatch(context: ApiContext, req: IncomingMessage, res: ShoalResponse, match: RouteMatch): Promise<void> {
  const table = requireTable(context, match.table);
  const request = parseBatchRequest(await readJsonBody(req, res, context.limits), context.limits, context.clock.nowMs());
  const result = await context.items.batch(table, request.gets, request.writes);
  if (!result.ok) throw storeError(result.error, `cannot apply a batch to table "${table.name}"`);
  const gets = result.value.gets.map((item, i) => describeGet(request.getKeys[i]!, item));
  const puts: unknown[] = [];
  const deletes: unknown[] = [];
  result.value.writes.forEach((outcome, i) => {
    const key = request.writeKeys[i]!;
    if (outcome.type === "put") {
      puts.push({ key, etag: `"${outcome.item.version}"`, lastModified: new Date(hlcPhysicalMs(outcome.item.timestamp)).toISOString() });
    } else {
      deletes.push({ key, deleted: outcome.existed });
    }
  });
  sendJson(res, 200, { get: gets, put: puts, delete: deletes });
}

function describeGet(key: string, item: ItemVersion | undefined): unknown {
  if (item === undefined) return { key, found: false };
  const bytes = Buffer.from(item.value.buffer, item.value.byteOffset, item.value.byteLength);
  return {
    key,
    found: true,
    ...(isText(item.contentType) ? { value: bytes.toString("utf8") } : {}),
    valueBase64: bytes.toString("base64"),
    contentType: item.contentType,
    metadata: item.metadata,
    etag: `"${item.version}"`,
    lastModified: new Date(hlcPhysicalMs(item.timestamp)).toISOString(),
    expiresAt: expiresAt(item),
  };
}

function isText(contentType: string): boolean {
  const type = contentType.toLowerCase();
  return type.startsWith("text/") || type.startsWith("application/json");
}
