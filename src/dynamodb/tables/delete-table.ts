import type { DynamoContext } from "../dynamo-context.js";
import { tableNotFound } from "../protocol/dynamo-exception.js";
import type { JsonObject } from "../protocol/request-reader.js";
import { requireTable } from "./describe-table.js";
import { catalogException } from "./catalog-exception.js";
import { describeTable } from "./table-description.js";

/**
 * DeleteTable (API reference, "DeleteTable"): the table disappears at once (the catalog purges
 * its items in the background) and the answer describes it as DELETING, as DynamoDB does.
 */
export async function deleteTable(context: DynamoContext, body: JsonObject): Promise<JsonObject> {
  const table = requireTable(context, body);
  const dropped = await context.tables.drop(table.definition.name);
  if (!dropped.ok) throw dropped.code === "TableNotFound" ? tableNotFound(table.definition.name) : catalogException(dropped.code, dropped.message);
  return { TableDescription: describeTable(context, dropped.table, "DELETING") };
}
