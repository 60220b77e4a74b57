import type { AttributeValue } from "../model/attribute-value.js";
import type { Comparator, Operand, Resolved, ResolvedCondition } from "./expression-ast.js";
import { fail, failPlain } from "./expression-failure.js";
import { keyTypeMatches, type KeyCondition, type KeySchema, type SortKeyCondition } from "./key-condition.js";

/**
 * Narrows a resolved condition to a key condition (developer guide, "Key condition expressions
 * for query"): one or two conditions joined by AND; the partition key with =; the sort key with
 * =, <, <=, >, >=, BETWEEN or begins_with; nothing else, each key once.
 */
const kind = "KeyConditionExpression";

interface KeyTerm {
  readonly name: string;
  readonly condition: SortKeyCondition;
}

const flipped: Record<Comparator, Comparator> = { "=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<=" };

export function buildKeyCondition(condition: ResolvedCondition, schema: KeySchema): KeyCondition {
  const terms = flattenAnd(condition).map(keyTerm);
  if (terms.length > 2 || (terms.length === 2 && terms[0]!.name === terms[1]!.name)) {
    failPlain("KeyConditionExpressions must only contain one condition per key");
  }
  const partition = terms.find((term) => term.name === schema.partitionKey);
  if (partition === undefined) failPlain(`Query condition missed key schema element: ${schema.partitionKey}`);
  const sort = terms.find((term) => term !== partition);
  if (partition.condition.op !== "=") failPlain("Query key condition not supported");
  if (sort !== undefined && (schema.sortKey === undefined || sort.name !== schema.sortKey)) {
    failPlain(schema.sortKey === undefined ? "Query key condition not supported" : `Query condition missed key schema element: ${schema.sortKey}`);
  }
  checkTypes(partition.condition.values, schema.partitionKeyType);
  if (sort !== undefined) checkTypes(sort.condition.values, schema.sortKeyType);
  const result: KeyCondition = { partitionKeyName: partition.name, partitionValue: partition.condition.values[0] };
  return sort === undefined ? result : { ...result, sort: { name: sort.name, ...sort.condition } };
}

function flattenAnd(condition: ResolvedCondition): ResolvedCondition[] {
  if (condition.kind === "and") return [...flattenAnd(condition.left), ...flattenAnd(condition.right)];
  return [condition];
}

function keyTerm(condition: ResolvedCondition): KeyTerm {
  switch (condition.kind) {
    case "compare": {
      if (condition.op === "<>") failPlain("Unsupported operator on KeyCondition: <>");
      if (condition.left.kind === "value" && condition.right.kind !== "value") {
        return termOf(condition.right, { op: flipped[condition.op] as "=", values: [condition.left.value] });
      }
      return termOf(condition.left, { op: condition.op as "=", values: [valueOf(condition.right)] });
    }
    case "between":
      return termOf(condition.operand, { op: "between", values: [valueOf(condition.low), valueOf(condition.high)] });
    case "begins_with":
      return termOf({ kind: "path", path: condition.path }, { op: "begins_with", values: [valueOf(condition.operand)] });
    case "or":
    case "not":
    case "in":
      return failPlain(`Invalid operator used in KeyConditionExpression: ${condition.kind.toUpperCase()}`);
    default:
      return failPlain(`Invalid operator used in KeyConditionExpression: ${condition.kind}`);
  }
}

function termOf(operand: Operand<Resolved>, condition: SortKeyCondition): KeyTerm {
  if (operand.kind === "size" || operand.kind === "sizeOfValue") failPlain("Invalid operator used in KeyConditionExpression: size");
  if (operand.kind === "value") fail(kind, "Invalid condition in KeyConditionExpression: No key attribute specified");
  if (operand.path.length !== 1 || typeof operand.path[0] !== "string") fail(kind, "KeyConditionExpressions cannot have conditions on nested attributes");
  return { name: operand.path[0], condition };
}

function valueOf(operand: Operand<Resolved>): AttributeValue {
  if (operand.kind === "value") return operand.value;
  if (operand.kind === "size" || operand.kind === "sizeOfValue") return failPlain("Invalid operator used in KeyConditionExpression: size");
  return fail(kind, "Invalid condition in KeyConditionExpression: multiple attribute names used in one condition");
}

function checkTypes(values: readonly AttributeValue[], expected: KeySchema["partitionKeyType"]): void {
  if (!values.every((value) => keyTypeMatches(expected, value))) {
    failPlain("One or more parameter values were invalid: Condition parameter type does not match schema type");
  }
}
