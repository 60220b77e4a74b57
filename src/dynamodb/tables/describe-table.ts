import { assert } from "../../assert.js";
import type { DynamoContext } from "../dynamo-context.js";
import { tableNotFound } from "../protocol/dynamo-exception.js";
import { RequestReader, type JsonObject } from "../protocol/request-reader.js";
import type { DynamoTable } from "./dynamo-table.js";
import { describeTable as description } from "./table-description.js";
import { readTableName } from "./table-name.js";

/** DescribeTable (API reference, "DescribeTable"); ItemCount and TableSizeBytes come from table-stats.ts. */
export function describeTable(context: DynamoContext, body: JsonObject): Promise<JsonObject> {
  const table = requireTable(context, body);
  context.stats?.describe(table);
  return Promise.resolve({ Table: description(context, table) });
}

/** Reads TableName, checks the request shape, and finds the table or answers DynamoDB's not-found. */
export function requireTable(context: DynamoContext, body: JsonObject, read?: (reader: RequestReader) => void): DynamoTable {
  const reader = new RequestReader(body);
  const tableName = readTableName(reader);
  read?.(reader);
  reader.finish();
  assert(tableName !== undefined, "TableName was checked");
  const table = context.tables.get(tableName);
  if (table === undefined) throw tableNotFound(tableName);
  return table;
}
