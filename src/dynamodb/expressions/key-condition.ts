import type { AttributeValue, KeyAttributeType } from "../model/attribute-value.js";
import { attributeTypeOf } from "../model/attribute-value.js";
import { compareScalars } from "../model/attribute-value-order.js";
import { compareBytes } from "../../storage/byte-order.js";

/**
 * The structured form of a Query's KeyConditionExpression (developer guide, "Key condition
 * expressions for query"): an equality on the partition key and at most one condition on the
 * sort key (=, <, <=, >, >=, BETWEEN, begins_with). The operations layer turns it into a range
 * scan of one partition; `sortKeyMatches` is the same test on one value.
 */
export interface KeySchema {
  readonly partitionKey: string;
  readonly sortKey?: string;
  /** The declared key types (AttributeDefinitions); when given, values of another type are refused. */
  readonly partitionKeyType?: KeyAttributeType;
  readonly sortKeyType?: KeyAttributeType;
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
  const first = sort.values[0];
  if (sort.op === "begins_with") return beginsWith(value, first);
  const order = compareScalars(value, first);
  if (order === undefined) return false;
  switch (sort.op) {
    case "=":
      return order === 0;
    case "<":
      return order < 0;
    case "<=":
      return order <= 0;
    case ">":
      return order > 0;
    case ">=":
      return order >= 0;
    case "between": {
      const upper = compareScalars(value, sort.values[1]);
      return order >= 0 && upper !== undefined && upper <= 0;
    }
  }
}

/** begins_with for strings (by characters, which for UTF-8 is also by bytes) and binaries. */
export function beginsWith(value: AttributeValue, prefix: AttributeValue): boolean {
  if ("S" in value && "S" in prefix) return value.S.startsWith(prefix.S);
  if ("B" in value && "B" in prefix) {
    return value.B.length >= prefix.B.length && compareBytes(value.B.subarray(0, prefix.B.length), prefix.B) === 0;
  }
  return false;
}

export function keyTypeMatches(expected: KeyAttributeType | undefined, value: AttributeValue): boolean {
  return expected === undefined || attributeTypeOf(value) === expected;
}
