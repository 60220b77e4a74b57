import { attributeTypeOf, attributeTypes, isAttributeType, type AttributeValue } from "../model/attribute-value.js";
import { compareScalars } from "../model/attribute-value-order.js";
import type { DocumentPath, Operand, Parsed, ParsedCondition, ParsedPathElement, Resolved, ResolvedCondition } from "./expression-ast.js";
import { formatPath } from "./document-path-rules.js";
import { sizeOf } from "./evaluate-condition.js";
import { fail, unwrap } from "./expression-failure.js";
import type { ExpressionKind } from "./expression-parser.js";
import type { PlaceholderResolver } from "./placeholder-resolver.js";

/**
 * Substitutes placeholders into a parsed condition and checks what only the values reveal:
 * ordering comparisons and BETWEEN take N, S or B; begins_with takes S or B; attribute_type
 * takes the name of a type; a BETWEEN of two values must not be upside down.
 */
export function resolveCondition(kind: ExpressionKind, condition: ParsedCondition, resolver: PlaceholderResolver): ResolvedCondition {
  const resolved = resolveNode(kind, condition, resolver);
  checkDistinctOperands(kind, resolved);
  return resolved;
}

function resolveNode(kind: ExpressionKind, condition: ParsedCondition, resolver: PlaceholderResolver): ResolvedCondition {
  const operand = (o: Operand<Parsed>) => resolveOperand(kind, o, resolver);
  const path = (p: { path: readonly ParsedPathElement[] }) => unwrap(resolver.path(kind, p.path));
  switch (condition.kind) {
    case "and":
    case "or":
      return { kind: condition.kind, left: resolveCondition(kind, condition.left, resolver), right: resolveCondition(kind, condition.right, resolver) };
    case "not":
      return { kind: "not", condition: resolveCondition(kind, condition.condition, resolver) };
    case "compare": {
      const left = operand(condition.left);
      const right = operand(condition.right);
      if (condition.op !== "=" && condition.op !== "<>") [left, right].forEach((o) => requireScalar(kind, condition.op, o));
      return { kind: "compare", op: condition.op, left, right };
    }
    case "between":
      return resolveBetween(kind, operand(condition.operand), operand(condition.low), operand(condition.high));
    case "in":
      return { kind: "in", operand: operand(condition.operand), list: condition.list.map(operand) };
    case "attribute_exists":
    case "attribute_not_exists":
      return { kind: condition.kind, path: path(condition) };
    case "attribute_type":
      return { kind: "attribute_type", path: path(condition), type: checkTypeName(kind, operand(condition.type)) };
    case "begins_with": {
      const prefix = operand(condition.operand);
      requireType(kind, "begins_with", prefix, ["S", "B"]);
      return { kind: "begins_with", path: path(condition), operand: prefix };
    }
    case "contains":
      return { kind: "contains", path: path(condition), operand: operand(condition.operand) };
  }
}

export function resolveOperand(kind: ExpressionKind, operand: Operand<Parsed>, resolver: PlaceholderResolver): Operand<Resolved> {
  if (operand.kind === "value") return { kind: "value", value: unwrap(resolver.value(kind, operand.value)) };
  if (operand.kind === "sizeOfValue") {
    const value = unwrap(resolver.value(kind, operand.value));
    const size = sizeOf(value);
    if (size === undefined) fail(kind, `Incorrect operand type for operator or function; operator or function: size, operand type: ${attributeTypeOf(value)}`);
    return { kind: "value", value: { N: String(size) } };
  }
  return { kind: operand.kind, path: unwrap(resolver.path(kind, operand.path)) };
}

function requireScalar(kind: ExpressionKind, op: string, operand: Operand<Resolved>): void {
  requireType(kind, op, operand, ["N", "S", "B"]);
}

/** Only a literal value's type is known before evaluation; paths are judged per item. */
export function requireType(kind: ExpressionKind, op: string, operand: Operand<Resolved>, allowed: readonly string[]): void {
  if (operand.kind !== "value") return;
  const type = attributeTypeOf(operand.value);
  if (!allowed.includes(type)) fail(kind, `Incorrect operand type for operator or function; operator or function: ${op}, operand type: ${type}`);
}

function resolveBetween(kind: ExpressionKind, operand: Operand<Resolved>, low: Operand<Resolved>, high: Operand<Resolved>): ResolvedCondition {
  [operand, low, high].forEach((o) => requireScalar(kind, "BETWEEN", o));
  if (low.kind === "value" && high.kind === "value") {
    const order = compareScalars(low.value, high.value);
    if (order === undefined) {
      fail(kind, `The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: ${showValue(low.value)}, upper bound operand: AttributeValue: ${showValue(high.value)}`);
    }
    if (order > 0) {
      fail(kind, `The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lowerBound: ${showValue(low.value)}, upperBound: ${showValue(high.value)}`);
    }
  }
  return { kind: "between", operand, low, high };
}

function checkTypeName(kind: ExpressionKind, operand: Operand<Resolved>): Operand<Resolved> {
  requireType(kind, "attribute_type", operand, ["S"]);
  if (operand.kind === "value" && "S" in operand.value && !isAttributeType(operand.value.S)) {
    fail(kind, `Invalid attribute type name found; type: ${operand.value.S}, valid types: { ${attributeTypes.join(",")} }`);
  }
  return operand;
}

/**
 * DynamoDB refuses an operator whose first operand, a path, appears again among the others
 * (a = a, contains(#a, #a)): such a condition is constant, so it is surely a mistake.
 */
function checkDistinctOperands(kind: ExpressionKind, condition: ResolvedCondition): void {
  const check = (op: string, first: Operand<Resolved>, rest: readonly Operand<Resolved>[]) => {
    if (first.kind !== "path") return;
    if (rest.some((other) => other.kind === "path" && samePath(other.path, first.path))) {
      fail(kind, `The first operand must be distinct from the remaining operands for this operator or function; operator: ${op}, first operand: ${formatPath(first.path)}`);
    }
  };
  switch (condition.kind) {
    case "compare":
      return check(condition.op, condition.left, [condition.right]);
    case "between":
      return check("BETWEEN", condition.operand, [condition.low, condition.high]);
    case "in":
      return check("IN", condition.operand, condition.list);
    case "begins_with":
    case "contains":
      return check(condition.kind, { kind: "path", path: condition.path }, [condition.operand]);
    default:
      return;
  }
}

function samePath(a: DocumentPath, b: DocumentPath): boolean {
  return a.length === b.length && a.every((element, i) => element === b[i]);
}

/** A scalar value as DynamoDB's messages show it: {N: 5}, {S: a}. */
export function showValue(value: AttributeValue): string {
  if ("N" in value) return `{N: ${value.N}}`;
  if ("S" in value) return `{S: ${value.S}}`;
  if ("B" in value) return `{B: ${Buffer.from(value.B).toString("base64")}}`;
  return `{${attributeTypeOf(value)}}`;
}
