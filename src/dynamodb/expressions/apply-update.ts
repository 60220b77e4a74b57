import type { AttributeValue, Item } from "../model/attribute-value.js";
import { nestingDepth, nestingDepthMax } from "../model/attribute-value-json.js";
import { addNumbers, subtractNumbers } from "../model/dynamo-number.js";
import { itemBytesMax, itemSize } from "../model/item-size.js";
import { type Result } from "../model/validation-error.js";
import { valueAtPath } from "./document-path-access.js";
import { removeAtPath, setAtPath } from "./document-path-write.js";
import type { DocumentPath, Resolved, ResolvedUpdate, SetOperand, SetValue, UpdateAction } from "./expression-ast.js";
import { catchFailure, failPlain, unwrap } from "./expression-failure.js";
import { projectItem } from "./project-item.js";
import { setDifference, setUnion } from "./set-algebra.js";

/** The item after an update, and the updated attributes before and after (ReturnValues UPDATED_OLD/NEW). */
export interface UpdateOutcome {
  readonly item: Item;
  readonly updatedOld: Item;
  readonly updatedNew: Item;
}

export const updateMessages = {
  missingAttribute: "The provided expression refers to an attribute that does not exist in the item",
  wrongType: "An operand in the update expression has an incorrect data type",
  itemTooLarge: "Item size to update has exceeded the maximum allowed size",
  nesting: "Nesting Levels have exceeded supported limits",
};

/**
 * Applies a resolved update expression to an item (developer guide, "Update expressions"); for
 * an item that does not exist yet, pass its key attributes. Every right-hand side reads the
 * item as it was before the update (SET a = b, b = a swaps), then the actions write in order,
 * REMOVEs last and from the highest list index down, so indexes name the original elements.
 * Refusing changes to key attributes is the caller's check (`updatedAttributeNames`).
 */
export function applyUpdate(update: ResolvedUpdate, item: Item): Result<UpdateOutcome> {
  return catchFailure(() => {
    const writes = update.actions.filter((a) => a.kind !== "remove").map((action) => ({ path: action.path, value: newValueOf(action, item) }));
    let next = item;
    for (const write of writes) {
      if (write.value !== undefined && write.path.length - 1 + nestingDepth(write.value) > nestingDepthMax) failPlain(updateMessages.nesting);
      next = write.value === undefined ? removeAtPath(next, write.path) : setAtPath(next, write.path, write.value);
    }
    const removals = update.actions.filter((a) => a.kind === "remove").map((a) => a.path);
    for (const path of [...removals].sort(comparePathsDescending)) next = removeAtPath(next, path);
    if (itemSize(next) > itemBytesMax) failPlain(updateMessages.itemTooLarge);
    const paths = update.actions.map((a) => a.path);
    return { item: next, updatedOld: projectItem(item, paths), updatedNew: projectItem(next, paths) };
  });
}

/** The top-level attribute names an update changes, so the caller can refuse key attributes. */
export function updatedAttributeNames(update: ResolvedUpdate): ReadonlySet<string> {
  return new Set(update.actions.map((action) => String(action.path[0])));
}

/** What a SET, ADD or DELETE writes at its path; undefined means the attribute goes away. */
function newValueOf(action: UpdateAction<Resolved>, item: Item): AttributeValue | undefined {
  const current = valueAtPath(item, action.path);
  switch (action.kind) {
    case "set":
      return setValue(action.value, item);
    case "add":
      if (current === undefined) return action.value;
      if ("N" in current && "N" in action.value) return { N: unwrap(addNumbers(current.N, action.value.N)) };
      return setUnion(current, action.value) ?? failPlain(updateMessages.wrongType);
    case "delete":
      if (current === undefined) return undefined;
      return emptiedAsRemoval(setDifference(current, action.value));
    case "remove":
      return undefined;
  }
}

/** DELETE of the last members removes the attribute (a set is never empty). */
function emptiedAsRemoval(difference: AttributeValue | null | undefined): AttributeValue | undefined {
  if (difference === undefined) return failPlain(updateMessages.wrongType);
  return difference ?? undefined;
}

function setValue(value: SetValue<Resolved>, item: Item): AttributeValue {
  if (value.kind === "operand") return operandValue(value.operand, item);
  const left = operandValue(value.left, item);
  const right = operandValue(value.right, item);
  if (!("N" in left) || !("N" in right)) return failPlain(updateMessages.wrongType);
  return { N: unwrap(value.kind === "plus" ? addNumbers(left.N, right.N) : subtractNumbers(left.N, right.N)) };
}

function operandValue(operand: SetOperand<Resolved>, item: Item): AttributeValue {
  switch (operand.kind) {
    case "value":
      return operand.value;
    case "path":
      return valueAtPath(item, operand.path) ?? failPlain(updateMessages.missingAttribute);
    case "if_not_exists":
      return valueAtPath(item, operand.path) ?? operandValue(operand.fallback, item);
    case "list_append": {
      const first = operandValue(operand.first, item);
      const second = operandValue(operand.second, item);
      if (!("L" in first) || !("L" in second)) return failPlain(updateMessages.wrongType);
      return { L: [...first.L, ...second.L] };
    }
  }
}

/** Paths in descending order, comparing list indexes numerically, so removals go back to front. */
function comparePathsDescending(a: DocumentPath, b: DocumentPath): number {
  const shared = Math.min(a.length, b.length);
  for (let i = 0; i < shared; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    if (typeof x === "number" && typeof y === "number") return y - x;
    return String(y) < String(x) ? -1 : 1;
  }
  return b.length - a.length;
}
