import type { JsonObject, RequestReader } from "../protocol/request-reader.js";

/**
 * ReturnConsumedCapacity (developer guide, "Read/write capacity mode"): a strongly consistent
 * read costs one unit per 4 KB read (rounded up), an eventually consistent read half that; a
 * write costs one unit per 1 KB written (rounded up), at least one. Query and Scan round the
 * total size of the items they read, GetItem and the batch operations each item. Shoal does
 * not throttle; the units are reported so applications can size DynamoDB tables from Shoal.
 */
export type CapacityReport = "NONE" | "TOTAL" | "INDEXES";

const readUnitBytes = 4096;
const writeUnitBytes = 1024;

const capacityReportRule = { oneOf: ["INDEXES", "TOTAL", "NONE"] };

export function readCapacityReport(reader: RequestReader): CapacityReport {
  return (reader.string("ReturnConsumedCapacity", capacityReportRule) ?? "NONE") as CapacityReport;
}

export function readCapacityUnits(bytes: number, consistent: boolean): number {
  const units = Math.max(1, Math.ceil(bytes / readUnitBytes));
  return consistent ? units : units / 2;
}

export function writeCapacityUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / writeUnitBytes));
}

/**
 * The ConsumedCapacity member of an answer, or undefined when it was not asked for. `units` may
 * be a function, called only when the answer reports them: sizing an item walks all of it.
 */
export function consumedCapacity(report: CapacityReport, tableName: string, unitsOrSize: number | (() => number), kind: "read" | "write"): JsonObject | undefined {
  if (report === "NONE") return undefined;
  const units = typeof unitsOrSize === "number" ? unitsOrSize : unitsOrSize();
  const consumed: JsonObject = { TableName: tableName, CapacityUnits: units };
  consumed[kind === "read" ? "ReadCapacityUnits" : "WriteCapacityUnits"] = units;
  if (report === "INDEXES") consumed.Table = { CapacityUnits: units, [kind === "read" ? "ReadCapacityUnits" : "WriteCapacityUnits"]: units };
  return consumed;
}

/** Adds ConsumedCapacity to an answer when asked for. */
export function withCapacity(output: JsonObject, capacity: JsonObject | undefined): JsonObject {
  if (capacity !== undefined) output.ConsumedCapacity = capacity;
  return output;
}

/** Per-table totals for the batch operations' ConsumedCapacity list. */
export function capacityList(report: CapacityReport, unitsByTable: ReadonlyMap<string, number>, kind: "read" | "write"): JsonObject[] | undefined {
  if (report === "NONE") return undefined;
  return [...unitsByTable].map(([name, units]) => consumedCapacity(report, name, units, kind)!);
}
