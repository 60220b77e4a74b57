import type { TableDefinition } from "../../catalog/table-definition.js";
import type { KeyAttributeType } from "../model/attribute-value.js";

/**
 * What the DynamoDB front door knows about a table beyond the Shoal table underneath (API
 * reference, "TableDescription"): the key schema (partition key, optional sort key, each S, N
 * or B), the attribute definitions as given, billing mode, provisioned throughput (accepted
 * and reported; Shoal does not throttle) and the TTL attribute.
 */
export interface KeyElement {
  readonly name: string;
  readonly type: KeyAttributeType;
}

export interface KeySchema {
  readonly partitionKey: KeyElement;
  readonly sortKey?: KeyElement;
}

export type BillingMode = "PROVISIONED" | "PAY_PER_REQUEST";

export interface ProvisionedThroughput {
  readonly readCapacityUnits: number;
  readonly writeCapacityUnits: number;
  readonly lastIncreaseMs?: number;
  readonly lastDecreaseMs?: number;
}

export interface TimeToLive {
  readonly attributeName: string;
  readonly enabled: boolean;
}

export interface DynamoTableMetadata {
  readonly keySchema: KeySchema;
  readonly billingMode: BillingMode;
  /** Zero units under PAY_PER_REQUEST, as DynamoDB reports them. */
  readonly throughput: ProvisionedThroughput;
  /** When the billing mode last became PAY_PER_REQUEST (ms since the epoch). */
  readonly payPerRequestSinceMs?: number;
  readonly timeToLive: TimeToLive | null;
}

/** A DynamoDB table: the Shoal table that holds its items and the front door's metadata. */
export interface DynamoTable {
  readonly definition: TableDefinition;
  readonly metadata: DynamoTableMetadata;
}

/** The key attributes of a schema, partition key first. */
export function keyElements(schema: KeySchema): KeyElement[] {
  return schema.sortKey === undefined ? [schema.partitionKey] : [schema.partitionKey, schema.sortKey];
}
