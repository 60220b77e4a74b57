import type { Item } from "../model/attribute-value.js";
import type { Result } from "../model/validation-error.js";
import type { ResolvedUpdate } from "./expression-ast.js";

/** The item after an update, and the updated attributes before and after (ReturnValues UPDATED_OLD/NEW). */
export interface UpdateOutcome {
  readonly item: Item;
  readonly updatedOld: Item;
  readonly updatedNew: Item;
}

/**
 * Applies a resolved update expression to an item (for an item that does not exist yet, pass
 * its key attributes). Refusing changes to key attributes is the caller's check
 * (`updatedAttributeNames`).
 */
export function applyUpdate(update: ResolvedUpdate, item: Item): Result<UpdateOutcome> {
  void update;
  void item;
  throw new Error("applyUpdate: not implemented yet");
}

/** The top-level attribute names an update changes, so the caller can refuse key attributes. */
export function updatedAttributeNames(update: ResolvedUpdate): ReadonlySet<string> {
  return new Set(update.actions.map((action) => String(action.path[0])));
}
