import type { DynamoContext } from "../dynamo-context.js";
import { defaultDynamoLimits, type DynamoLimits } from "../dynamo-limits.js";
import { TableDirectory } from "../tables/table-directory.js";
import { MemoryCatalog } from "./memory-catalog.js";
import { MemoryItemOperations } from "./memory-item-operations.js";

/** A DynamoContext over memory, for calling operations directly (no HTTP) in unit tests. */
export function testContext(limits: Partial<DynamoLimits> = {}, nowMs = Date.UTC(2026, 0, 1)): DynamoContext & { items: MemoryItemOperations; catalog: MemoryCatalog } {
  const clock = { nowMs: () => nowMs };
  const catalog = new MemoryCatalog(clock.nowMs);
  return {
    catalog,
    tables: new TableDirectory(catalog),
    items: new MemoryItemOperations(),
    clock,
    limits: { ...defaultDynamoLimits, ...limits },
    region: "ddblocal",
    accountId: "000000000000",
  };
}
