import type { AttributeValue, Item } from "../model/attribute-value.js";
import { defineEntry } from "../model/attribute-value-json.js";
import type { DocumentPath, ResolvedProjection } from "./expression-ast.js";

/**
 * The parts of an item that a projection expression names (developer guide, "Projection
 * expressions"), keeping their place: a.b yields { a: { M: { b } } }; list elements keep their
 * order and close up (l[3], l[1] yields the list [l[1], l[3]]). Paths that find nothing are
 * left out. Also builds ReturnValues UPDATED_OLD and UPDATED_NEW from an update's paths.
 */
interface Selection {
  whole: boolean;
  readonly members: Map<string | number, Selection>;
}

export function projectItem(item: Item, projection: ResolvedProjection): Item {
  const root = selectionOf(projection);
  const out: Record<string, AttributeValue> = {};
  for (const [name, selection] of root.members) {
    if (typeof name !== "string" || !Object.hasOwn(item, name)) continue;
    const value = extract(item[name]!, selection);
    if (value !== undefined) defineEntry(out, name, value);
  }
  return out;
}

function selectionOf(paths: readonly DocumentPath[]): Selection {
  const root: Selection = { whole: false, members: new Map() };
  for (const path of paths) {
    let node = root;
    for (const element of path) {
      if (node.whole) break;
      let child = node.members.get(element);
      if (child === undefined) {
        child = { whole: false, members: new Map() };
        node.members.set(element, child);
      }
      node = child;
    }
    node.whole = true;
  }
  return root;
}

function extract(value: AttributeValue, selection: Selection): AttributeValue | undefined {
  if (selection.whole) return value;
  if ("M" in value) {
    const out: Record<string, AttributeValue> = {};
    for (const [name, child] of selection.members) {
      if (typeof name !== "string" || !Object.hasOwn(value.M, name)) continue;
      const member = extract(value.M[name]!, child);
      if (member !== undefined) defineEntry(out, name, member);
    }
    return Object.keys(out).length === 0 ? undefined : { M: out };
  }
  if ("L" in value) {
    const indexes = [...selection.members.keys()].filter((k): k is number => typeof k === "number" && k < value.L.length).sort((a, b) => a - b);
    const elements = indexes.map((index) => extract(value.L[index]!, selection.members.get(index)!)).filter((v) => v !== undefined);
    return elements.length === 0 ? undefined : { L: elements };
  }
  return undefined;
}
