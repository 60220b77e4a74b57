import { assert } from "../../assert.js";
import type { DynamoContext } from "../dynamo-context.js";
import { evaluateCondition } from "../expressions/evaluate-condition.js";
import type { Item } from "../model/attribute-value.js";
import { itemToJson, parseItem } from "../model/attribute-value-json.js";
import { itemSize, itemSizeMessage } from "../model/item-size.js";
import { validationException } from "../protocol/dynamo-exception.js";
import { emptyAnswer, type JsonText } from "../protocol/dynamo-response.js";
import { RequestReader, type JsonObject } from "../protocol/request-reader.js";
import { changeItem } from "./conditional-change.js";
import { consumedCapacity, readCapacityReport, withCapacity, writeCapacityUnits } from "./consumed-capacity.js";
import { compileRequestExpressions, readExpressionMembers } from "./expression-parameters.js";
import { findItemTable, readItemTableName } from "./item-table.js";
import { orThrow } from "./or-throw.js";
import { checkOldOnly, readReturnValues } from "./return-values.js";
import { storeException } from "./store-failure.js";
import { itemWrite } from "./stored-item.js";
import { itemKey } from "./table-key.js";

/**
 * PutItem (API reference, "PutItem"): replaces the whole item. With a ConditionExpression or
 * ReturnValues ALL_OLD it is a read-modify-write (atomic on the strong path); otherwise a blind
 * put, which is one protocol round cheaper. `escapeFree`: the body's JSON text held no backslash
 * (the front door checked; protocol/escape-free.ts), so the item is written without escaping.
 */
export async function putItem(context: DynamoContext, body: JsonObject, escapeFree = false): Promise<JsonObject | JsonText> {
  const reader = new RequestReader(body);
  const tableName = readItemTableName(reader);
  const rawItem = reader.object("Item", { required: true });
  const returnValues = readReturnValues(reader);
  const report = readCapacityReport(reader);
  const expressions = readExpressionMembers(reader, ["ConditionExpression"]);
  reader.finish();
  assert(rawItem !== undefined, "Item was checked");
  const item = orThrow(parseItem(rawItem));
  const { condition } = compileRequestExpressions(expressions);
  checkOldOnly(returnValues);
  const table = findItemTable(context, tableName);
  const key = itemKey(table, item);
  const size = checkItemSize(context, item);
  let previous: Item | undefined;
  if (condition === undefined && returnValues === "NONE") {
    const result = await context.items.put(table.definition, key.parts, itemWrite(item, size, escapeFree), { quorum: {}, condition: {} });
    if (!result.ok) throw storeException(result.error);
  } else {
    const outcome = await changeItem(context, table, key, (current) =>
      condition === undefined || evaluateCondition(condition, current) ? { type: "put", item } : { type: "fail", reason: "condition" },
    );
    previous = outcome.previous;
  }
  const returnsOld = returnValues === "ALL_OLD" && previous !== undefined;
  if (!returnsOld && report === "NONE") return emptyAnswer;
  const output: JsonObject = {};
  if (returnsOld) output.Attributes = itemToJson(previous!);
  return withCapacity(output, consumedCapacity(report, table.definition.name, () => writeUnits(item, previous), "write"));
}

/** The item's DynamoDB size, or DynamoDB's refusal over the limit. */
export function checkItemSize(context: DynamoContext, item: Item): number {
  const size = itemSize(item);
  if (size > context.limits.itemBytesMax) throw validationException(itemSizeMessage);
  return size;
}

/** A write costs by the larger of the item before and after (developer guide, "Write capacity"). */
export function writeUnits(after: Item | undefined, before: Item | undefined): number {
  return writeCapacityUnits(Math.max(after === undefined ? 0 : itemSize(after), before === undefined ? 0 : itemSize(before)));
}
