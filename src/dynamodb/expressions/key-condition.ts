import type { AttributeValue } from "../model/attribute-value.js";

/**
 * The structured form of a Query's KeyConditionExpression (developer guide, "Key condition
 * expressions for query"): an equality on the partition key and at most one condition on the
 * sort key (=, <, <=, >, >=, BETWEEN, begins_with). The operations layer turns it into a range
 * scan of one partition.
 */
export interface KeySchema {
  readonly partitionKey: string;
  readonly sortKey?: string;
}

export type SortKeyCondition =
  | { readonly op: "=" | "<" | "<=" | ">" | ">="; readonly values: readonly [AttributeValue] }
  | { readonly op: "between"; readonly values: readonly [AttributeValue, AttributeValue] }
  | { readonly op: "begins_with"; readonly values: readonly [AttributeValue] };

export interface KeyCondition {
  readonly partitionKeyName: string;
  readonly partitionValue: AttributeValue;
  readonly sort?: { readonly name: string } & SortKeyCondition;
}

/** Whether a sort key value satisfies the sort key condition (values of another type never do). */
export function sortKeyMatches(sort: SortKeyCondition, value: AttributeValue): boolean {
  void sort;
  void value;
  throw new Error("sortKeyMatches: not implemented yet");
}
