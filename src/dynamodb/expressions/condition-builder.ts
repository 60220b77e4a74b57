import type { Comparator, ConditionFunctionName, Operand, Parsed, ParsedCondition, ParsedPathElement } from "./expression-ast.js";
import { fail } from "./expression-failure.js";
import type { ExpressionKind } from "./expression-parser.js";
import { pathDepthMessage, reservedWordMessage } from "./document-path-rules.js";
import type { RawCall, RawCondition, RawOperand } from "./raw-syntax.js";

/**
 * Turns the grammar's condition tree into a parsed condition (developer guide, "Comparison
 * operator and function reference"), refusing what DynamoDB refuses before it looks at any
 * placeholder: unknown functions, functions in the wrong place or with the wrong number of
 * operands, reserved words as bare names, redundant parentheses, and IN lists over `inOperandsMax`.
 */
export const inOperandsMax = 100;

const conditionFunctionArity: Record<ConditionFunctionName, number> = {
  attribute_exists: 1,
  attribute_not_exists: 1,
  attribute_type: 2,
  begins_with: 2,
  contains: 2,
};

/** Functions of the update language; named here so the message says "not allowed", not "invalid". */
export const updateFunctionNames = ["if_not_exists", "list_append"];

export function isConditionFunction(name: string): name is ConditionFunctionName {
  return Object.hasOwn(conditionFunctionArity, name);
}

export function buildCondition(kind: ExpressionKind, raw: RawCondition): ParsedCondition {
  switch (raw.type) {
    case "parens":
      if (raw.condition.type === "parens") fail(kind, "The expression has redundant parentheses;");
      return buildCondition(kind, raw.condition);
    case "and":
    case "or":
      return { kind: raw.type, left: buildCondition(kind, raw.left), right: buildCondition(kind, raw.right) };
    case "not":
      return { kind: "not", condition: buildCondition(kind, raw.condition) };
    case "compare":
      return { kind: "compare", op: raw.op as Comparator, left: buildOperand(kind, raw.left), right: buildOperand(kind, raw.right) };
    case "between":
      return { kind: "between", operand: buildOperand(kind, raw.operand), low: buildOperand(kind, raw.low), high: buildOperand(kind, raw.high) };
    case "in":
      if (raw.list.length > inOperandsMax) {
        fail(kind, `The IN operator is provided with too many operands; number of operands: ${raw.list.length}`);
      }
      return { kind: "in", operand: buildOperand(kind, raw.operand), list: raw.list.map((operand) => buildOperand(kind, operand)) };
    case "function":
      return buildFunction(kind, raw.call);
  }
}

function buildFunction(kind: ExpressionKind, call: RawCall): ParsedCondition {
  if (!isConditionFunction(call.name)) misusedFunction(kind, call.name);
  checkArity(kind, call, conditionFunctionArity[call.name]);
  const path = requirePath(kind, call, call.args[0]!);
  switch (call.name) {
    case "attribute_exists":
    case "attribute_not_exists":
      return { kind: call.name, path };
    case "attribute_type":
      return { kind: "attribute_type", path, type: buildOperand(kind, call.args[1]!) };
    default:
      return { kind: call.name, path, operand: buildOperand(kind, call.args[1]!) };
  }
}

/** A function name used where it does not belong: known elsewhere, or not known at all. */
export function misusedFunction(kind: ExpressionKind, name: string): never {
  const known = isConditionFunction(name) || name === "size" || updateFunctionNames.includes(name);
  if (known) fail(kind, `The function is not allowed to be used this way in an expression; function: ${name}`);
  fail(kind, `Invalid function name; function: ${name}`);
}

export function checkArity(kind: ExpressionKind, call: RawCall, arity: number): void {
  if (call.args.length !== arity) {
    fail(kind, `Incorrect number of operands for operator or function; operator or function: ${call.name}, number of operands: ${call.args.length}`);
  }
}

export function requirePath(kind: ExpressionKind, call: RawCall, operand: RawOperand): readonly ParsedPathElement[] {
  if (operand.type !== "path") fail(kind, `Operator or function requires a document path; operator or function: ${call.name}`);
  return checkedPath(kind, operand.elements);
}

export function checkedPath(kind: ExpressionKind, elements: readonly ParsedPathElement[]): readonly ParsedPathElement[] {
  const message = reservedWordMessage(elements) ?? pathDepthMessage(elements);
  if (message !== undefined) fail(kind, message);
  return elements;
}

function buildOperand(kind: ExpressionKind, raw: RawOperand): Operand<Parsed> {
  if (raw.type === "path") return { kind: "path", path: checkedPath(kind, raw.elements) };
  if (raw.type === "value") return { kind: "value", value: raw.ref };
  if (raw.name !== "size") misusedFunction(kind, raw.name);
  checkArity(kind, raw, 1);
  const argument = raw.args[0]!;
  if (argument.type === "value") return { kind: "sizeOfValue", value: argument.ref };
  return { kind: "size", path: requirePath(kind, raw, argument) };
}
