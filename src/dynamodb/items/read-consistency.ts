import type { Consistency } from "../../catalog/table-definition.js";
import type { DynamoTable } from "../tables/dynamo-table.js";

/**
 * The store consistency of a read with DynamoDB's ConsistentRead. DynamoDB never refuses
 * ConsistentRead, so on a table made on the eventual path (DynamoDbApiDeps.tableConsistency
 * "eventual") a consistent read is the eventual path's quorum read (R of N), the strongest that
 * path offers, not an error; on a strong table it is the linearizable read. Capacity is charged
 * by what the client asked for either way.
 */
export function readConsistency(table: DynamoTable, consistent: boolean): Consistency {
  return consistent && table.definition.consistency === "strong" ? "strong" : "eventual";
}
