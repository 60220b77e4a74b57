import type { Item } from "../model/attribute-value.js";
import type { ResolvedCondition } from "./expression-ast.js";

/**
 * Evaluates a resolved condition or filter against an item (absent when the item does not
 * exist), with DynamoDB's semantics: a comparison of different types, or with a missing
 * attribute, is false.
 */
export function evaluateCondition(condition: ResolvedCondition, item: Item | undefined): boolean {
  void condition;
  void item;
  throw new Error("evaluateCondition: not implemented yet");
}
