import { DynamoException, validationException } from "../protocol/dynamo-exception.js";
import { expectInteger, type RequestReader } from "../protocol/request-reader.js";
import type { BillingMode } from "./dynamo-table.js";

/**
 * BillingMode and ProvisionedThroughput as CreateTable and UpdateTable take them. Shoal
 * accepts and reports throughput but never throttles: capacity planning is the operator's.
 */
export const billingModes: readonly BillingMode[] = ["PROVISIONED", "PAY_PER_REQUEST"];

export interface ThroughputRequest {
  readCapacityUnits: number;
  writeCapacityUnits: number;
}

/** DynamoDB's default per-table quota on provisioned units; above it, LimitExceededException. */
export const capacityUnitsMax = 40_000;

export function readBillingMode(reader: RequestReader): BillingMode | undefined {
  return reader.string("BillingMode", { oneOf: billingModes }) as BillingMode | undefined;
}

export function readThroughput(reader: RequestReader): ThroughputRequest | undefined {
  const raw = reader.object("ProvisionedThroughput");
  if (raw === undefined) return undefined;
  const read = readUnits(reader, raw.ReadCapacityUnits, "provisionedThroughput.readCapacityUnits");
  const write = readUnits(reader, raw.WriteCapacityUnits, "provisionedThroughput.writeCapacityUnits");
  return read === undefined || write === undefined ? undefined : { readCapacityUnits: read, writeCapacityUnits: write };
}

function readUnits(reader: RequestReader, value: unknown, path: string): number | undefined {
  if (value === undefined || value === null) {
    reader.violation(null, path, "Member must not be null");
    return undefined;
  }
  const units = expectInteger(value);
  if (units < 1) reader.violation(units, path, "Member must have value greater than or equal to 1");
  return units;
}

/** The semantic rules CreateTable and UpdateTable share, after the shape checks. */
export function checkThroughputForMode(mode: BillingMode, throughput: ThroughputRequest | undefined, action: "create" | "update"): void {
  if (mode === "PAY_PER_REQUEST" && throughput !== undefined) {
    throw validationException("One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST");
  }
  if (mode === "PROVISIONED" && throughput === undefined) {
    throw validationException(
      action === "create"
        ? "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED"
        : "One or more parameter values were invalid: ProvisionedThroughput must be specified when BillingMode is PROVISIONED",
    );
  }
  if (throughput !== undefined && (throughput.readCapacityUnits > capacityUnitsMax || throughput.writeCapacityUnits > capacityUnitsMax)) {
    const message = `Subscriber limit exceeded: Provisioned throughput for a table cannot exceed ${capacityUnitsMax} units (asked for ${throughput.readCapacityUnits} read and ${throughput.writeCapacityUnits} write)`;
    throw new DynamoException("LimitExceededException", message);
  }
}
