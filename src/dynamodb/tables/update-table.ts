import type { DynamoContext } from "../dynamo-context.js";
import { tableNotFound, validationException } from "../protocol/dynamo-exception.js";
import type { JsonObject, RequestReader } from "../protocol/request-reader.js";
import { checkThroughputForMode, readBillingMode, readThroughput, type ThroughputRequest } from "./billing.js";
import { requireTable } from "./describe-table.js";
import type { BillingMode, DynamoTableMetadata } from "./dynamo-table.js";
import { catalogException } from "./catalog-exception.js";
import { describeTable } from "./table-description.js";

/**
 * UpdateTable (API reference, "UpdateTable"): billing mode and provisioned throughput. Index,
 * stream and replica updates are not supported and refused by name.
 */
export async function updateTable(context: DynamoContext, body: JsonObject): Promise<JsonObject> {
  let mode: BillingMode | undefined;
  let throughput: ThroughputRequest | undefined;
  const table = requireTable(context, body, (reader: RequestReader) => {
    mode = readBillingMode(reader);
    throughput = readThroughput(reader);
  });
  for (const member of ["GlobalSecondaryIndexUpdates", "StreamSpecification", "ReplicaUpdates", "AttributeDefinitions"]) {
    if (body[member] !== undefined && body[member] !== null) throw validationException(`${member} is not supported by Shoal's DynamoDB API`);
  }
  if (mode === undefined && throughput === undefined) {
    throw validationException("At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required");
  }
  const current = table.metadata;
  const nextMode = mode ?? current.billingMode;
  checkThroughputForMode(nextMode, throughput, "update");
  if (throughput !== undefined && nextMode === current.billingMode && sameThroughput(current, throughput)) {
    throw validationException(unchangedMessage(current, throughput));
  }
  const nowMs = context.clock.nowMs();
  const updated = await context.tables.update(table.definition.name, (metadata) => nextMetadata(metadata, nextMode, throughput, nowMs));
  if (!updated.ok) throw updated.code === "TableNotFound" ? tableNotFound(table.definition.name) : catalogException(updated.code, updated.message);
  return { TableDescription: describeTable(context, updated.table, updated.spreading === true ? "UPDATING" : "ACTIVE") };
}

function nextMetadata(current: DynamoTableMetadata, mode: BillingMode, throughput: ThroughputRequest | undefined, nowMs: number): DynamoTableMetadata {
  if (mode === "PAY_PER_REQUEST") {
    const since = current.billingMode === "PAY_PER_REQUEST" ? current.payPerRequestSinceMs : nowMs;
    return { ...current, billingMode: mode, throughput: { readCapacityUnits: 0, writeCapacityUnits: 0 }, ...(since !== undefined ? { payPerRequestSinceMs: since } : {}) };
  }
  const units = throughput ?? current.throughput;
  const before = current.throughput;
  const increased = units.readCapacityUnits > before.readCapacityUnits || units.writeCapacityUnits > before.writeCapacityUnits;
  const decreased = units.readCapacityUnits < before.readCapacityUnits || units.writeCapacityUnits < before.writeCapacityUnits;
  return {
    ...current,
    billingMode: mode,
    throughput: {
      readCapacityUnits: units.readCapacityUnits,
      writeCapacityUnits: units.writeCapacityUnits,
      ...(increased ? { lastIncreaseMs: nowMs } : before.lastIncreaseMs !== undefined ? { lastIncreaseMs: before.lastIncreaseMs } : {}),
      ...(decreased ? { lastDecreaseMs: nowMs } : before.lastDecreaseMs !== undefined ? { lastDecreaseMs: before.lastDecreaseMs } : {}),
    },
  };
}

function sameThroughput(current: DynamoTableMetadata, requested: ThroughputRequest): boolean {
  return current.throughput.readCapacityUnits === requested.readCapacityUnits && current.throughput.writeCapacityUnits === requested.writeCapacityUnits;
}

function unchangedMessage(current: DynamoTableMetadata, requested: ThroughputRequest): string {
  return (
    "The provisioned throughput for the table will not change. The requested value equals the current value. " +
    `Current ReadCapacityUnits provisioned for the table: ${current.throughput.readCapacityUnits}. Requested ReadCapacityUnits: ${requested.readCapacityUnits}. ` +
    `Current WriteCapacityUnits provisioned for the table: ${current.throughput.writeCapacityUnits}. Requested WriteCapacityUnits: ${requested.writeCapacityUnits}. ` +
    "Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits."
  );
}
