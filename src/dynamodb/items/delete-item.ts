import { assert } from "../../assert.js";
import type { DynamoContext } from "../dynamo-context.js";
import { evaluateCondition } from "../expressions/evaluate-condition.js";
import type { Item } from "../model/attribute-value.js";
import { itemToJson } from "../model/attribute-value-json.js";
import { emptyAnswer, type JsonText } from "../protocol/dynamo-response.js";
import { RequestReader, type JsonObject } from "../protocol/request-reader.js";
import { changeItem } from "./conditional-change.js";
import { consumedCapacity, readCapacityReport, withCapacity } from "./consumed-capacity.js";
import { compileRequestExpressions, readExpressionMembers } from "./expression-parameters.js";
import { findItemTable, readItemTableName } from "./item-table.js";
import { writeUnits } from "./put-item.js";
import { checkOldOnly, readReturnValues } from "./return-values.js";
import { storeException } from "./store-failure.js";
import { readKey } from "./table-key.js";

/**
 * DeleteItem (API reference, "DeleteItem"). Deleting an item that does not exist succeeds
 * (unless a condition says otherwise). Conditional deletes and ALL_OLD are read-modify-writes.
 */
export async function deleteItem(context: DynamoContext, body: JsonObject): Promise<JsonObject | JsonText> {
  const reader = new RequestReader(body);
  const tableName = readItemTableName(reader);
  const rawKey = reader.object("Key", { required: true });
  const returnValues = readReturnValues(reader);
  const report = readCapacityReport(reader);
  const expressions = readExpressionMembers(reader, ["ConditionExpression"]);
  reader.finish();
  assert(rawKey !== undefined, "Key was checked");
  const { condition } = compileRequestExpressions(expressions);
  checkOldOnly(returnValues);
  const table = findItemTable(context, tableName);
  const key = readKey(table, rawKey);
  let previous: Item | undefined;
  if (condition === undefined && returnValues === "NONE") {
    const result = await context.items.delete(table.definition, key.parts, { quorum: {}, condition: {} });
    if (!result.ok) throw storeException(result.error);
  } else {
    const outcome = await changeItem(context, table, key, (current) =>
      condition === undefined || evaluateCondition(condition, current) ? { type: "delete" } : { type: "fail", reason: "condition" },
    );
    previous = outcome.previous;
  }
  const returnsOld = returnValues === "ALL_OLD" && previous !== undefined;
  if (!returnsOld && report === "NONE") return emptyAnswer;
  const output: JsonObject = {};
  if (returnsOld) output.Attributes = itemToJson(previous!);
  return withCapacity(output, consumedCapacity(report, table.definition.name, () => writeUnits(undefined, previous), "write"));
}
