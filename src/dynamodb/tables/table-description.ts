import type { DynamoContext } from "../dynamo-context.js";
import type { JsonObject } from "../protocol/request-reader.js";
import { keyElements, type DynamoTable } from "./dynamo-table.js";

/**
 * A table as DescribeTable, CreateTable, UpdateTable and DeleteTable report it (API reference,
 * "TableDescription"). Tables are ACTIVE as soon as they exist (creation is synchronous here, as
 * in DynamoDB Local). ItemCount and TableSizeBytes are the table statistics' last figures
 * (table-stats.ts: recounted in the background, at most six hours old once described; 0 until
 * the first count).
 */
export function describeTable(context: DynamoContext, table: DynamoTable, status: "ACTIVE" | "CREATING" | "UPDATING" | "DELETING" = "ACTIVE"): JsonObject {
  const { definition, metadata } = table;
  const elements = keyElements(metadata.keySchema);
  const figures = context.stats?.peek(definition.id);
  const throughput: JsonObject = {
    NumberOfDecreasesToday: 0,
    ReadCapacityUnits: metadata.throughput.readCapacityUnits,
    WriteCapacityUnits: metadata.throughput.writeCapacityUnits,
  };
  if (metadata.throughput.lastIncreaseMs !== undefined) throughput.LastIncreaseDateTime = metadata.throughput.lastIncreaseMs / 1000;
  if (metadata.throughput.lastDecreaseMs !== undefined) throughput.LastDecreaseDateTime = metadata.throughput.lastDecreaseMs / 1000;
  const description: JsonObject = {
    AttributeDefinitions: elements.map((e) => ({ AttributeName: e.name, AttributeType: e.type })),
    TableName: definition.name,
    KeySchema: elements.map((e, i) => ({ AttributeName: e.name, KeyType: i === 0 ? "HASH" : "RANGE" })),
    TableStatus: status,
    CreationDateTime: definition.createdAtMs / 1000,
    ProvisionedThroughput: throughput,
    TableSizeBytes: figures?.sizeBytes ?? 0,
    ItemCount: figures?.itemCount ?? 0,
    TableArn: `arn:aws:dynamodb:${context.region}:${context.accountId}:table/${definition.name}`,
    TableId: tableId(definition.id),
    DeletionProtectionEnabled: false,
  };
  if (metadata.billingMode === "PAY_PER_REQUEST") {
    description.BillingModeSummary = { BillingMode: "PAY_PER_REQUEST", LastUpdateToPayPerRequestDateTime: (metadata.payPerRequestSinceMs ?? definition.createdAtMs) / 1000 };
  }
  return description;
}

/** A stable UUID-shaped id derived from the Shoal table id. */
function tableId(id: number): string {
  const hex = id.toString(16).padStart(12, "0");
  return `00000000-0000-4000-8000-${hex}`;
}
