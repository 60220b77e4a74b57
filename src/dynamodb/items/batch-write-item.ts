import type { BatchItemWrite } from "../../coordinator/item-operations.js";
import type { DynamoContext } from "../dynamo-context.js";
import { parseItem } from "../model/attribute-value-json.js";
import { DynamoException, validationException } from "../protocol/dynamo-exception.js";
import { RequestReader, expectObject, type JsonObject } from "../protocol/request-reader.js";
import type { DynamoTable } from "../tables/dynamo-table.js";
import { capacityList, readCapacityReport } from "./consumed-capacity.js";
import { keyIdentity } from "./batch-get-item.js";
import { orThrow } from "./or-throw.js";
import { checkItemSize, writeUnits } from "./put-item.js";
import { isRetryable, storeException } from "./store-failure.js";
import { itemWrite } from "./stored-item.js";
import { itemKey, readKey } from "./table-key.js";

/**
 * BatchWriteItem (API reference, "BatchWriteItem"): up to 25 puts and deletes across tables,
 * each applied as a blind put or delete would be (no conditions, not atomic across items, as
 * in DynamoDB). A table whose batch the cluster could not serve right now comes back whole in
 * UnprocessedItems; the SDK's callers retry those.
 */
interface TableWrites {
  table: DynamoTable;
  raw: unknown[];
  writes: BatchItemWrite[];
  units: number;
}

export async function batchWriteItem(context: DynamoContext, body: JsonObject): Promise<JsonObject> {
  const reader = new RequestReader(body);
  const requestItems = reader.object("RequestItems", { required: true });
  const report = readCapacityReport(reader);
  reader.finish();
  const tables = readTableWrites(context, requestItems!);
  const unprocessed: Record<string, unknown[]> = {};
  const units = new Map<string, number>();
  for (const entry of tables) {
    const result = await context.items.batch(entry.table.definition, [], entry.writes);
    if (!result.ok) {
      if (!isRetryable(result.error)) throw storeException(result.error);
      unprocessed[entry.table.definition.name] = entry.raw;
      continue;
    }
    units.set(entry.table.definition.name, entry.units);
  }
  const output: JsonObject = { UnprocessedItems: unprocessed };
  const capacity = capacityList(report, units, "write");
  if (capacity !== undefined) output.ConsumedCapacity = capacity;
  return output;
}

function readTableWrites(context: DynamoContext, requestItems: JsonObject): TableWrites[] {
  const max = context.limits.batchWriteItemsMax;
  const entries = Object.entries(requestItems).map(([name, value]) => {
    if (!Array.isArray(value)) throw validationException(`RequestItems.${name} must be a list of WriteRequest`);
    return [name, value] as const;
  });
  const total = entries.reduce((sum, [, requests]) => sum + requests.length, 0);
  if (entries.length === 0 || total > max || entries.some(([, requests]) => requests.length === 0)) {
    throw validationException(
      `1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to ${max}, Member must have length greater than or equal to 1]`,
    );
  }
  return entries.map(([name, requests]) => {
    const table = context.tables.get(name);
    if (table === undefined) throw new DynamoException("ResourceNotFoundException", "Requested resource not found");
    const writes: BatchItemWrite[] = [];
    const seen = new Set<string>();
    let units = 0;
    for (const request of requests) {
      const write = readWriteRequest(context, table, expectObject(request));
      const identity = keyIdentity({ attributes: {}, parts: write.write.key });
      if (seen.has(identity)) throw validationException("Provided list of item keys contains duplicates");
      seen.add(identity);
      writes.push(write.write);
      units += write.units;
    }
    return { table, raw: requests, writes, units };
  });
}

function readWriteRequest(context: DynamoContext, table: DynamoTable, request: JsonObject): { write: BatchItemWrite; units: number } {
  const reader = new RequestReader(request);
  const put = reader.object("PutRequest");
  const del = reader.object("DeleteRequest");
  reader.finish();
  if ((put === undefined) === (del === undefined)) throw validationException("Supplied WriteRequest must contain exactly one of PutRequest or DeleteRequest");
  if (put !== undefined) {
    const item = orThrow(parseItem(put.Item ?? null));
    const key = itemKey(table, item);
    const size = checkItemSize(context, item);
    return { write: { type: "put", key: key.parts, write: itemWrite(item, size) }, units: writeUnits(item, undefined) };
  }
  const key = readKey(table, del!.Key ?? null);
  return { write: { type: "delete", key: key.parts }, units: 1 };
}
