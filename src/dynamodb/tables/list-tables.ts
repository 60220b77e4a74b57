import type { DynamoContext } from "../dynamo-context.js";
import { RequestReader, type JsonObject } from "../protocol/request-reader.js";
import { readTableName } from "./table-name.js";

/**
 * ListTables (API reference, "ListTables"): names in order, at most Limit (1..100, default
 * 100) after ExclusiveStartTableName; LastEvaluatedTableName when more names follow.
 */
export function listTables(context: DynamoContext, body: JsonObject): Promise<JsonObject> {
  const reader = new RequestReader(body);
  const start = readTableName(reader, "ExclusiveStartTableName", false);
  const limit = reader.integer("Limit", { min: 1, max: context.limits.listTablesLimitMax }) ?? context.limits.listTablesLimitMax;
  reader.finish();
  const names = context.tables.names();
  const from = start === undefined ? 0 : names.findIndex((name) => name > start);
  const remaining = from < 0 ? [] : names.slice(from);
  const page = remaining.slice(0, limit);
  const result: JsonObject = { TableNames: page };
  if (remaining.length > limit) result.LastEvaluatedTableName = page[page.length - 1];
  return Promise.resolve(result);
}
