import type { Parsed, ParsedPathElement, ParsedUpdate, SetOperand, SetValue, UpdateAction } from "./expression-ast.js";
import { checkArity, checkedPath, misusedFunction, requirePath } from "./condition-builder.js";
import { fail } from "./expression-failure.js";
import type { RawOperand, RawSetValue, RawUpdate } from "./raw-syntax.js";

/**
 * Turns the grammar's update tree into a parsed update (developer guide, "Update expressions"):
 * each of SET, REMOVE, ADD and DELETE at most once; SET takes paths, values, if_not_exists and
 * list_append, with one + or -; ADD and DELETE take a path and a value placeholder.
 */
const kind = "UpdateExpression";

export function buildUpdate(raw: RawUpdate): ParsedUpdate {
  const seen = new Set<string>();
  const actions: UpdateAction<Parsed>[] = [];
  for (const clause of raw.clauses) {
    if (seen.has(clause.type)) fail(kind, `The "${clause.type}" section can only be used once in an update expression;`);
    seen.add(clause.type);
    if (clause.type === "SET") {
      for (const action of clause.actions) actions.push({ kind: "set", path: checkedPath(kind, action.path.elements), value: buildSetValue(action.value) });
    } else if (clause.type === "REMOVE") {
      for (const path of clause.paths) actions.push({ kind: "remove", path: checkedPath(kind, path.elements) });
    } else {
      for (const action of clause.actions) actions.push(buildAddOrDelete(clause.type, action.path.elements, action.value));
    }
  }
  return { actions };
}

function buildAddOrDelete(type: "ADD" | "DELETE", path: readonly ParsedPathElement[], value: RawOperand): UpdateAction<Parsed> {
  if (value.type !== "value") fail(kind, `Incorrect operand type for operator or function; operator: ${type}, operand type: ${value.type === "path" ? "PATH" : "FUNCTION"}`);
  return { kind: type === "ADD" ? "add" : "delete", path: checkedPath(kind, path), value: value.ref };
}

function buildSetValue(raw: RawSetValue): SetValue<Parsed> {
  if (raw.type === "operand") return { kind: "operand", operand: buildSetOperand(raw.operand) };
  return { kind: raw.type, left: buildSetOperand(raw.left), right: buildSetOperand(raw.right) };
}

function buildSetOperand(raw: RawOperand): SetOperand<Parsed> {
  if (raw.type === "path") return { kind: "path", path: checkedPath(kind, raw.elements) };
  if (raw.type === "value") return { kind: "value", value: raw.ref };
  if (raw.name === "if_not_exists") {
    checkArity(kind, raw, 2);
    return { kind: "if_not_exists", path: requirePath(kind, raw, raw.args[0]!), fallback: buildSetOperand(raw.args[1]!) };
  }
  if (raw.name === "list_append") {
    checkArity(kind, raw, 2);
    return { kind: "list_append", first: buildSetOperand(raw.args[0]!), second: buildSetOperand(raw.args[1]!) };
  }
  return misusedFunction(kind, raw.name);
}
