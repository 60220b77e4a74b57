import { attributeTypeOf, type AttributeValue } from "../model/attribute-value.js";
import type { Parsed, ParsedUpdate, Resolved, ResolvedUpdate, SetOperand, SetValue, UpdateAction } from "./expression-ast.js";
import { fail, unwrap } from "./expression-failure.js";
import type { PlaceholderResolver } from "./placeholder-resolver.js";
import { pathClashMessage } from "./document-path-rules.js";

/**
 * Substitutes placeholders into a parsed update and checks what the values and the resolved
 * paths reveal: arithmetic takes numbers, list_append lists, ADD a number or a set, DELETE a
 * set; and no two actions may touch overlapping or conflicting paths.
 */
const kind = "UpdateExpression";

/** Type names as DynamoDB's ADD and DELETE messages spell them. */
const longTypeNames: Record<string, string> = {
  S: "STRING", N: "NUMBER", B: "BINARY", BOOL: "BOOLEAN", NULL: "NULL", M: "MAP", L: "LIST", SS: "SSET", NS: "NSET", BS: "BSET",
};

export function resolveUpdate(update: ParsedUpdate, resolver: PlaceholderResolver): ResolvedUpdate {
  const actions = update.actions.map((action) => resolveAction(action, resolver));
  const clash = pathClashMessage(actions.map((action) => action.path));
  if (clash !== undefined) fail(kind, clash);
  return { actions };
}

function resolveAction(action: UpdateAction<Parsed>, resolver: PlaceholderResolver): UpdateAction<Resolved> {
  const path = unwrap(resolver.path(kind, action.path));
  if (action.kind === "remove") return { kind: "remove", path };
  if (action.kind === "set") return { kind: "set", path, value: resolveSetValue(action.value, resolver) };
  const value = unwrap(resolver.value(kind, action.value));
  const type = attributeTypeOf(value);
  const allowed = action.kind === "add" ? ["N", "SS", "NS", "BS"] : ["SS", "NS", "BS"];
  if (!allowed.includes(type)) {
    fail(kind, `Incorrect operand type for operator or function; operator: ${action.kind.toUpperCase()}, operand type: ${longTypeNames[type]}`);
  }
  return { kind: action.kind, path, value };
}

function resolveSetValue(value: SetValue<Parsed>, resolver: PlaceholderResolver): SetValue<Resolved> {
  if (value.kind === "operand") return { kind: "operand", operand: resolveSetOperand(value.operand, resolver) };
  const op = value.kind === "plus" ? "+" : "-";
  const left = resolveSetOperand(value.left, resolver);
  const right = resolveSetOperand(value.right, resolver);
  [left, right].forEach((operand) => requireLiteralType(op, operand, "N"));
  return { kind: value.kind, left, right };
}

function resolveSetOperand(operand: SetOperand<Parsed>, resolver: PlaceholderResolver): SetOperand<Resolved> {
  switch (operand.kind) {
    case "path":
      return { kind: "path", path: unwrap(resolver.path(kind, operand.path)) };
    case "value":
      return { kind: "value", value: unwrap(resolver.value(kind, operand.value)) };
    case "if_not_exists":
      return { kind: "if_not_exists", path: unwrap(resolver.path(kind, operand.path)), fallback: resolveSetOperand(operand.fallback, resolver) };
    case "list_append": {
      const first = resolveSetOperand(operand.first, resolver);
      const second = resolveSetOperand(operand.second, resolver);
      [first, second].forEach((o) => requireLiteralType("list_append", o, "L"));
      return { kind: "list_append", first, second };
    }
  }
}

function requireLiteralType(op: string, operand: SetOperand<Resolved>, type: string): void {
  if (operand.kind !== "value") return;
  const actual = attributeTypeOf(operand.value as AttributeValue);
  if (actual !== type) fail(kind, `Incorrect operand type for operator or function; operator or function: ${op}, operand type: ${actual}`);
}
