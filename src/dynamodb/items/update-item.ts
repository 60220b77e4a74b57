import { assert } from "../../assert.js";
import type { DynamoContext } from "../dynamo-context.js";
import { applyUpdate, updatedAttributeNames, type UpdateOutcome } from "../expressions/apply-update.js";
import { evaluateCondition } from "../expressions/evaluate-condition.js";
import type { ResolvedUpdate } from "../expressions/expression-ast.js";
import type { Item } from "../model/attribute-value.js";
import { itemToJson } from "../model/attribute-value-json.js";
import { itemSize } from "../model/item-size.js";
import { validationException } from "../protocol/dynamo-exception.js";
import { emptyAnswer, type JsonText } from "../protocol/dynamo-response.js";
import { RequestReader, type JsonObject } from "../protocol/request-reader.js";
import { keyElements, type DynamoTable } from "../tables/dynamo-table.js";
import { changeItem, type ItemDecision } from "./conditional-change.js";
import { consumedCapacity, readCapacityReport, withCapacity } from "./consumed-capacity.js";
import { compileRequestExpressions, readExpressionMembers } from "./expression-parameters.js";
import { findItemTable, readItemTableName } from "./item-table.js";
import { writeUnits } from "./put-item.js";
import { readReturnValues, type ReturnValues } from "./return-values.js";
import { readKey, type TableKey } from "./table-key.js";

/**
 * UpdateItem (API reference, "UpdateItem"): the condition, the update expression and the write
 * run inside one atomic change (the strong path's CASPaxos round), so concurrent counters and
 * conditional updates never lose an increment. An item that does not exist starts as its key
 * attributes. Key attributes cannot be updated; the updated item must stay within 400 KB.
 */
export async function updateItem(context: DynamoContext, body: JsonObject): Promise<JsonObject | JsonText> {
  const reader = new RequestReader(body);
  const tableName = readItemTableName(reader);
  const rawKey = reader.object("Key", { required: true });
  const returnValues = readReturnValues(reader);
  const report = readCapacityReport(reader);
  const expressions = readExpressionMembers(reader, ["UpdateExpression", "ConditionExpression"]);
  reader.finish();
  assert(rawKey !== undefined, "Key was checked");
  const { condition, update } = compileRequestExpressions(expressions);
  const table = findItemTable(context, tableName);
  const key = readKey(table, rawKey);
  if (update !== undefined) refuseKeyUpdates(table, update);
  const itemBytesMax = context.limits.itemBytesMax;
  const outcome = await changeItem(context, table, key, (current): ItemDecision => {
    if (condition !== undefined && !evaluateCondition(condition, current)) return { type: "fail", reason: "condition" };
    const updated = updateOf(update, current, key);
    if (!updated.ok) return { type: "fail", reason: "invalid", message: updated.error.message };
    if (itemSize(updated.value.item) > itemBytesMax) return { type: "fail", reason: "invalid", message: "Item size to update has exceeded the maximum allowed size" };
    return { type: "put", item: updated.value.item };
  });
  const attributes = returnedAttributes(returnValues, update, outcome.previous, outcome.item, key);
  const returnsAttributes = attributes !== undefined && Object.keys(attributes).length > 0;
  if (!returnsAttributes && report === "NONE") return emptyAnswer;
  const output: JsonObject = {};
  if (returnsAttributes) output.Attributes = itemToJson(attributes);
  return withCapacity(output, consumedCapacity(report, table.definition.name, () => writeUnits(outcome.item, outcome.previous), "write"));
}

function updateOf(update: ResolvedUpdate | undefined, current: Item | undefined, key: TableKey): ReturnType<typeof applyUpdate> {
  const base = current ?? key.attributes;
  if (update === undefined) return { ok: true, value: { item: base, updatedOld: {}, updatedNew: {} } };
  return applyUpdate(update, base);
}

function refuseKeyUpdates(table: DynamoTable, update: ResolvedUpdate): void {
  const updated = updatedAttributeNames(update);
  for (const element of keyElements(table.metadata.keySchema)) {
    if (updated.has(element.name)) {
      throw validationException(`One or more parameter values were invalid: Cannot update attribute ${element.name}. This attribute is part of the key`);
    }
  }
}

/** What ReturnValues asks for, from the item before and after (UPDATED_*: only the attributes the update touched). */
function returnedAttributes(returnValues: ReturnValues, update: ResolvedUpdate | undefined, previous: Item | undefined, item: Item | undefined, key: TableKey): Item | undefined {
  switch (returnValues) {
    case "NONE":
      return undefined;
    case "ALL_OLD":
      return previous;
    case "ALL_NEW":
      return item;
    case "UPDATED_OLD":
    case "UPDATED_NEW": {
      const replay = updateOf(update, previous, key);
      assert(replay.ok, "an update that succeeded inside the change succeeds again on the same item");
      const outcome: UpdateOutcome = replay.value;
      return returnValues === "UPDATED_OLD" ? outcome.updatedOld : outcome.updatedNew;
    }
  }
}
