import { assert } from "../../assert.js";
import type { DynamoContext } from "../dynamo-context.js";
import { projectItem } from "../expressions/project-item.js";
import { itemSize } from "../model/item-size.js";
import { itemToJson } from "../model/attribute-value-json.js";
import { JsonText } from "../protocol/dynamo-response.js";
import { RequestReader, type JsonObject } from "../protocol/request-reader.js";
import { consumedCapacity, readCapacityReport, readCapacityUnits, withCapacity } from "./consumed-capacity.js";
import { compileRequestExpressions, readExpressionMembers } from "./expression-parameters.js";
import { findItemTable, readItemTableName } from "./item-table.js";
import { storeException } from "./store-failure.js";
import { liveItem, liveItemJson, newestVersion } from "./stored-item.js";
import { readKey } from "./table-key.js";
import { readConsistency } from "./read-consistency.js";

/**
 * GetItem (API reference, "GetItem"). ConsistentRead true is a strong read (linearizable,
 * through the protocol); false (the default) reads one replica, as DynamoDB's eventually
 * consistent read may be stale. The answer has no Item member when there is none. Without a
 * projection the stored item's JSON goes into the answer as it is (no model, no re-encoding).
 */
export async function getItem(context: DynamoContext, body: JsonObject): Promise<JsonObject | JsonText> {
  const reader = new RequestReader(body);
  const tableName = readItemTableName(reader);
  const rawKey = reader.object("Key", { required: true });
  const consistent = reader.boolean("ConsistentRead") ?? false;
  const report = readCapacityReport(reader);
  const expressions = readExpressionMembers(reader, ["ProjectionExpression"]);
  reader.finish();
  assert(rawKey !== undefined, "Key was checked");
  const { projection } = compileRequestExpressions(expressions);
  const table = findItemTable(context, tableName);
  const key = readKey(table, rawKey);
  const result = await context.items.get(table.definition, key.parts, { quorum: {}, consistency: readConsistency(table, consistent) });
  if (!result.ok) throw storeException(result.error);
  if (projection === undefined) {
    const stored = liveItemJson(table, newestVersion(result.value), context.clock.nowMs());
    const capacity = consumedCapacity(report, table.definition.name, () => readCapacityUnits(stored === undefined ? 0 : stored.size, consistent), "read");
    const capacityMember = capacity === undefined ? "" : `"ConsumedCapacity":${JSON.stringify(capacity)}`;
    if (stored === undefined) return new JsonText(`{${capacityMember}}`);
    return new JsonText(['{"Item":', stored.json, capacityMember === "" ? "}" : `,${capacityMember}}`]);
  }
  const item = liveItem(table, newestVersion(result.value), context.clock.nowMs());
  const output: JsonObject = {};
  if (item !== undefined) output.Item = itemToJson(projection === undefined ? item : projectItem(item, projection));
  const units = () => readCapacityUnits(item === undefined ? 0 : itemSize(item), consistent);
  return withCapacity(output, consumedCapacity(report, table.definition.name, units, "read"));
}
