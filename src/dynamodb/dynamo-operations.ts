import type { DynamoContext } from "./dynamo-context.js";
import type { JsonObject } from "./protocol/request-reader.js";
import type { JsonText } from "./protocol/dynamo-response.js";
import { batchGetItem } from "./items/batch-get-item.js";
import { batchWriteItem } from "./items/batch-write-item.js";
import { deleteItem } from "./items/delete-item.js";
import { getItem } from "./items/get-item.js";
import { putItem } from "./items/put-item.js";
import { query } from "./items/query.js";
import { scan } from "./items/scan.js";
import { updateItem } from "./items/update-item.js";
import { createTable } from "./tables/create-table.js";
import { deleteTable } from "./tables/delete-table.js";
import { describeTable } from "./tables/describe-table.js";
import { listTables } from "./tables/list-tables.js";
import { describeTimeToLive, updateTimeToLive } from "./tables/time-to-live.js";
import { updateTable } from "./tables/update-table.js";

/**
 * The operations Shoal's DynamoDB API serves, by the name X-Amz-Target carries. Not served
 * (UnknownOperationException): TransactWriteItems, TransactGetItems, ExecuteStatement (PartiQL),
 * the index, stream, backup and global-table operations.
 */
/** `escapeFree`: the body's JSON text held no backslash (protocol/escape-free.ts); told to PutItem only. */
export type DynamoOperation = (context: DynamoContext, body: JsonObject, escapeFree: boolean) => Promise<JsonObject | JsonText>;

export const dynamoOperations: Readonly<Record<string, DynamoOperation>> = Object.freeze({
  CreateTable: createTable,
  DescribeTable: describeTable,
  ListTables: listTables,
  DeleteTable: deleteTable,
  UpdateTable: updateTable,
  UpdateTimeToLive: updateTimeToLive,
  DescribeTimeToLive: describeTimeToLive,
  PutItem: putItem,
  GetItem: getItem,
  DeleteItem: deleteItem,
  UpdateItem: updateItem,
  Query: query,
  Scan: scan,
  BatchGetItem: batchGetItem,
  BatchWriteItem: batchWriteItem,
});

export const operationNames: ReadonlySet<string> = new Set(Object.keys(dynamoOperations));
