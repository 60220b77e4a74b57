import type { ItemOperations } from "../coordinator/item-operations.js";
import type { Clock } from "../runtime/runtime.js";
import type { DynamoLimits } from "./dynamo-limits.js";
import type { TableDirectory } from "./tables/table-directory.js";
import type { TableFigures } from "./tables/table-stats.js";
import type { DynamoTable } from "./tables/dynamo-table.js";

/** What every DynamoDB operation works with: tables, the item store, the clock and the bounds. */
export interface DynamoContext {
  readonly tables: TableDirectory;
  readonly items: ItemOperations;
  readonly clock: Clock;
  readonly limits: DynamoLimits;
  /** Shown in table ARNs ("arn:aws:dynamodb:<region>:<account>:table/<name>"). */
  readonly region: string;
  readonly accountId: string;
  /** DescribeTable's ItemCount and TableSizeBytes (tables/table-stats.ts); absent: reported as 0. */
  readonly stats?: {
    /** The last figures, queueing a recount when they are missing or stale. */
    describe(table: DynamoTable): TableFigures;
    peek(tableId: number): TableFigures | undefined;
  };
}
