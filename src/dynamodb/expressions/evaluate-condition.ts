import type { AttributeValue, Item } from "../model/attribute-value.js";
import { attributeTypeOf } from "../model/attribute-value.js";
import { attributeValuesEqual, compareScalars } from "../model/attribute-value-order.js";
import { utf8Length } from "../model/item-size.js";
import { valueAtPath } from "./document-path-access.js";
import type { Comparator, Operand, Resolved, ResolvedCondition } from "./expression-ast.js";
import { beginsWith } from "./key-condition.js";

/**
 * Evaluates a resolved condition or filter against an item (undefined when the item does not
 * exist), with DynamoDB's semantics (developer guide, "Comparison operator and function
 * reference"): ordering comparisons hold only between two N, two S or two B; anything compared
 * with a missing attribute is false, except <>, which holds; size() of a type without a size
 * is missing too.
 */
export function evaluateCondition(condition: ResolvedCondition, item: Item | undefined): boolean {
  switch (condition.kind) {
    case "and":
      return evaluateCondition(condition.left, item) && evaluateCondition(condition.right, item);
    case "or":
      return evaluateCondition(condition.left, item) || evaluateCondition(condition.right, item);
    case "not":
      return !evaluateCondition(condition.condition, item);
    case "compare":
      return compare(condition.op, operandValue(condition.left, item), operandValue(condition.right, item));
    case "between": {
      const value = operandValue(condition.operand, item);
      return compare(">=", value, operandValue(condition.low, item)) && compare("<=", value, operandValue(condition.high, item));
    }
    case "in": {
      const value = operandValue(condition.operand, item);
      return condition.list.some((member) => compare("=", value, operandValue(member, item)));
    }
    case "attribute_exists":
      return valueAtPath(item, condition.path) !== undefined;
    case "attribute_not_exists":
      return valueAtPath(item, condition.path) === undefined;
    case "attribute_type": {
      const value = valueAtPath(item, condition.path);
      const type = operandValue(condition.type, item);
      return value !== undefined && type !== undefined && "S" in type && attributeTypeOf(value) === type.S;
    }
    case "begins_with": {
      const value = valueAtPath(item, condition.path);
      const prefix = operandValue(condition.operand, item);
      return value !== undefined && prefix !== undefined && beginsWith(value, prefix);
    }
    case "contains": {
      const value = valueAtPath(item, condition.path);
      const member = operandValue(condition.operand, item);
      return value !== undefined && member !== undefined && contains(value, member);
    }
  }
}

function compare(op: Comparator, left: AttributeValue | undefined, right: AttributeValue | undefined): boolean {
  if (op === "<>") return left === undefined || right === undefined || !attributeValuesEqual(left, right);
  if (left === undefined || right === undefined) return false;
  if (op === "=") return attributeValuesEqual(left, right);
  const order = compareScalars(left, right);
  if (order === undefined) return false;
  if (op === "<") return order < 0;
  if (op === "<=") return order <= 0;
  if (op === ">") return order > 0;
  return order >= 0;
}

export function operandValue(operand: Operand<Resolved>, item: Item | undefined): AttributeValue | undefined {
  if (operand.kind === "value") return operand.value;
  const value = operand.kind === "sizeOfValue" ? operand.value : valueAtPath(item, operand.path);
  if (operand.kind === "path" || value === undefined) return value;
  const size = sizeOf(value);
  return size === undefined ? undefined : { N: String(size) };
}

/** size() (guide: "size (path)"): string bytes, binary bytes, members of a set, map or list. */
export function sizeOf(value: AttributeValue): number | undefined {
  if ("S" in value) return utf8Length(value.S);
  if ("B" in value) return value.B.length;
  if ("SS" in value) return value.SS.length;
  if ("NS" in value) return value.NS.length;
  if ("BS" in value) return value.BS.length;
  if ("M" in value) return Object.keys(value.M).length;
  if ("L" in value) return value.L.length;
  return undefined;
}

/** contains(): a substring of a string, a member of a set, an element of a list. */
function contains(value: AttributeValue, member: AttributeValue): boolean {
  if ("S" in value) return "S" in member && value.S.includes(member.S);
  if ("SS" in value) return "S" in member && value.SS.includes(member.S);
  if ("NS" in value) return "N" in member && value.NS.some((n) => attributeValuesEqual({ N: n }, member));
  if ("BS" in value) return "B" in member && value.BS.some((b) => attributeValuesEqual({ B: b }, member));
  if ("L" in value) return value.L.some((element) => attributeValuesEqual(element, member));
  return false;
}
