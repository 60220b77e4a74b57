import { assert } from "../../assert.js";
import type { DynamoContext } from "../dynamo-context.js";
import { DynamoException } from "../protocol/dynamo-exception.js";
import type { RequestReader } from "../protocol/request-reader.js";
import type { DynamoTable } from "../tables/dynamo-table.js";
import { readTableName } from "../tables/table-name.js";

/** Item operations name a missing table without its name, as DynamoDB does. */
export function findItemTable(context: DynamoContext, tableName: string | undefined): DynamoTable {
  assert(tableName !== undefined, "TableName was checked");
  const table = context.tables.get(tableName);
  if (table === undefined) throw new DynamoException("ResourceNotFoundException", "Requested resource not found");
  return table;
}

export function readItemTableName(reader: RequestReader): string | undefined {
  return readTableName(reader);
}
