import type { ItemOperations } from "../coordinator/item-operations.js";
import type { Clock } from "../runtime/runtime.js";
import type { DynamoLimits } from "./dynamo-limits.js";
import type { TableDirectory } from "./tables/table-directory.js";

/** What every DynamoDB operation works with: tables, the item store, the clock and the bounds. */
export interface DynamoContext {
  readonly tables: TableDirectory;
  readonly items: ItemOperations;
  readonly clock: Clock;
  readonly limits: DynamoLimits;
  /** Shown in table ARNs ("arn:aws:dynamodb:<region>:<account>:table/<name>"). */
  readonly region: string;
  readonly accountId: string;
}
