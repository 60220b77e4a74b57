import type { AttributeValue, Item } from "../model/attribute-value.js";
import type { DocumentPath } from "./expression-ast.js";

/**
 * Reading a document path in an item (developer guide, "Specifying item attributes"): a name
 * steps into a map, an index into a list. Any other step (a missing member, an index past
 * the end, a name on a list) finds nothing, which expressions treat as a missing attribute.
 */
export function valueAtPath(item: Item | undefined, path: DocumentPath): AttributeValue | undefined {
  if (item === undefined || path.length === 0) return undefined;
  const head = path[0]!;
  if (typeof head !== "string" || !Object.hasOwn(item, head)) return undefined;
  let value: AttributeValue | undefined = item[head];
  for (let i = 1; i < path.length && value !== undefined; i++) value = childOf(value, path[i]!);
  return value;
}

export function childOf(value: AttributeValue, element: string | number): AttributeValue | undefined {
  if (typeof element === "string") return "M" in value && Object.hasOwn(value.M, element) ? value.M[element] : undefined;
  return "L" in value ? value.L[element] : undefined;
}
