import type { ItemRead } from "../coordinator/item-operations.js";
import { requireTable, storeError, type ApiContext } from "./api-context.js";
import { parseBatchRequest } from "./batch-request.js";
import { expiresAt } from "./item-handlers.js";
import { readJsonBody } from "./json-body.js";
import type { RouteMatch } from "./route-match.js";
import { sendJson } from "./respond.js";
import { isTextual, siblingJson } from "./sibling-json.js";
import type { ShoalRequest, ShoalResponse } from "./shoal-response.js";
import { hlcPhysicalMs } from "../versioning/hybrid-logical-clock.js";

/**
 * `POST /v1/tables/{t}/batch` (body: batch-request.ts): answers the gets, then applies the
 * writes, each as a blind put or delete would be. Not atomic across keys on a cluster: each key
 * lives on its own replicas, so a failure part-way leaves the earlier writes in place.
 * Response: `{"get": [...], "put": [{"key", "etag", "lastModified"}], "delete": [{"key",
 * "deleted"}]}` where each get is
 *   - `{"key", "found": false}` (plus `"context"` when tombstones were seen),
 *   - `{"key", "found": true, "value"?, "valueBase64", "contentType", "metadata", "etag",
 *     "lastModified", "expiresAt", "context"}` for one version (`value`, UTF-8, for text and
 *     JSON content types), or
 *   - `{"key", "found": true, "siblings": [SiblingJson, ...], "context"}` for siblings.
 */
export async function runBatch(context: ApiContext, req: ShoalRequest, res: ShoalResponse, match: RouteMatch): Promise<void> {
  const table = requireTable(context, match.table);
  const request = parseBatchRequest(await readJsonBody(req, res, context.limits), context.limits, context.clock.nowMs());
  const result = await context.items.batch(table, request.gets, request.writes);
  if (!result.ok) throw storeError(result.error, `cannot apply a batch to table "${table.name}"`);
  const gets = result.value.gets.map((read, i) => describeGet(request.getKeys[i]!, read));
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

function describeGet(key: string, read: ItemRead): unknown {
  const context = read.context === "" ? {} : { context: read.context };
  if (read.siblings.length === 0) return { key, found: false, ...context };
  if (read.siblings.length > 1) return { key, found: true, siblings: read.siblings.map(siblingJson), ...context };
  const item = read.siblings[0]!;
  const bytes = Buffer.from(item.value.buffer, item.value.byteOffset, item.value.byteLength);
  return {
    key,
    found: true,
    ...(isTextual(item.contentType) ? { value: bytes.toString("utf8") } : {}),
    valueBase64: bytes.toString("base64"),
    contentType: item.contentType,
    metadata: item.metadata,
    etag: `"${item.version}"`,
    lastModified: new Date(hlcPhysicalMs(item.timestamp)).toISOString(),
    expiresAt: expiresAt(item),
    ...context,
  };
}
