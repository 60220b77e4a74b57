import { crc32 } from "node:zlib";
import type { ItemKeyParts } from "../../coordinator/item-operations.js";
import type { DynamoContext } from "../dynamo-context.js";
import { validationException } from "../protocol/dynamo-exception.js";
import type { JsonText } from "../protocol/dynamo-response.js";
import { RequestReader, type JsonObject } from "../protocol/request-reader.js";
import type { DynamoTable } from "../tables/dynamo-table.js";
import { consumedCapacity, readCapacityReport, readCapacityUnits } from "./consumed-capacity.js";
import { compileRequestExpressions, readExpressionMembers } from "./expression-parameters.js";
import { findItemTable, readItemTableName } from "./item-table.js";
import { PageCollector, moreAfter } from "./page-collector.js";
import { readIndexName, readSelect, refuseIndex, resolveSelect } from "./read-select.js";
import { storeException } from "./store-failure.js";
import { readStartKey } from "./table-key.js";
import { readConsistency } from "./read-consistency.js";

/**
 * Scan (API reference, "Scan"): the whole table in key order through ItemOperations.list.
 * A parallel scan's segment is the CRC32 of the partition key bytes modulo TotalSegments, so
 * the segments partition the table: every item belongs to exactly one, whatever the cluster
 * does between pages, and a segment's items keep their key order for paging. ConsistentRead
 * true lists with consistency "strong" (each key as a linearizable read would see it, no
 * completed write missed); false reads the acceptors' newest values without a round.
 */
export async function scan(context: DynamoContext, body: JsonObject): Promise<JsonObject | JsonText> {
  const reader = new RequestReader(body);
  const tableName = readItemTableName(reader);
  const indexName = readIndexName(reader);
  const limit = reader.integer("Limit", { min: 1 });
  const consistent = reader.boolean("ConsistentRead") ?? false;
  const select = readSelect(reader);
  const segment = reader.integer("Segment", { min: 0, max: context.limits.scanSegmentsMax - 1 });
  const totalSegments = reader.integer("TotalSegments", { min: 1, max: context.limits.scanSegmentsMax });
  const startKey = reader.object("ExclusiveStartKey");
  const report = readCapacityReport(reader);
  const expressions = readExpressionMembers(reader, ["FilterExpression", "ProjectionExpression"]);
  reader.finish();
  const segments = checkSegments(segment, totalSegments);
  const { filter, projection } = compileRequestExpressions(expressions);
  const table = findItemTable(context, tableName);
  refuseIndex(indexName);
  const after = startKey === undefined ? undefined : readStartKey(table, startKey).parts;
  const collector = new PageCollector({
    table,
    nowMs: context.clock.nowMs(),
    limit,
    filter,
    projection,
    select: resolveSelect(select, projection !== undefined),
    pageBytesMax: context.limits.pageBytesMax,
    pageItemsMax: context.limits.pageItemsMax,
  });
  const more = await offerTable(context, table, after, segments, consistent, collector);
  const units = readCapacityUnits(collector.bytesRead, consistent);
  return collector.answer(more, consumedCapacity(report, table.definition.name, units, "read"));
}

interface Segments {
  segment: number;
  total: number;
}

function checkSegments(segment: number | undefined, total: number | undefined): Segments | undefined {
  if (segment === undefined && total === undefined) return undefined;
  if (segment === undefined) throw validationException("The Segment parameter is required but was not present in the request when parameter TotalSegments is present");
  if (total === undefined) throw validationException("The TotalSegments parameter is required but was not present in the request when Segment parameter is present");
  if (segment >= total) throw validationException(`The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: ${segment} is not less than TotalSegments: ${total}`);
  return { segment, total };
}

/** The segment of a partition key (stable across nodes and versions: CRC32 is fixed). */
export function segmentOf(partitionKey: Uint8Array, totalSegments: number): number {
  return crc32(partitionKey) % totalSegments;
}

async function offerTable(context: DynamoContext, table: DynamoTable, start: ItemKeyParts | undefined, segments: Segments | undefined, consistent: boolean, collector: PageCollector): Promise<boolean> {
  let after = start;
  for (;;) {
    const page = await context.items.list(table.definition, { prefix: new Uint8Array(0), limit: context.limits.fetchItemsMax, consistency: readConsistency(table, consistent), ...(after !== undefined ? { after } : {}) });
    if (!page.ok) throw storeException(page.error);
    const { items, resumeAfter } = page.value;
    for (let i = 0; i < items.length; i++) {
      const listed = items[i]!;
      if (segments !== undefined && segmentOf(listed.key.partitionKey, segments.total) !== segments.segment) continue;
      if (!collector.offer(listed)) return moreAfter(i, items.length, resumeAfter);
    }
    if (resumeAfter === null) return false;
    after = resumeAfter;
  }
}
