import type { AttributeValue, Item } from "../model/attribute-value.js";
import { defineEntry } from "../model/attribute-value-json.js";
import type { DocumentPath } from "./expression-ast.js";
import { failPlain } from "./expression-failure.js";

/**
 * Writing and removing at a document path, copy on write (the input item is never changed).
 * As in DynamoDB (developer guide, "Update expressions"): every step but the last must exist
 * with the right type (a map for a name, a list for an index), or the path is invalid for
 * update; SET on an index past a list's end appends; REMOVE of something absent is a no-op.
 */
export const invalidPathMessage = "The document path provided in the update expression is invalid for update";

export function setAtPath(item: Item, path: DocumentPath, value: AttributeValue): Item {
  return (setIn({ M: item }, path, 0, value) as { M: Item }).M;
}

export function removeAtPath(item: Item, path: DocumentPath): Item {
  return (removeIn({ M: item }, path, 0) as { M: Item }).M;
}

function setIn(container: AttributeValue, path: DocumentPath, at: number, value: AttributeValue): AttributeValue {
  const head = path[at]!;
  const last = at === path.length - 1;
  if (typeof head === "string") {
    if (!("M" in container)) return failPlain(invalidPathMessage);
    const child = Object.hasOwn(container.M, head) ? container.M[head] : undefined;
    if (!last && child === undefined) return failPlain(invalidPathMessage);
    return { M: withEntry(container.M, head, last ? value : setIn(child!, path, at + 1, value)) };
  }
  if (!("L" in container)) return failPlain(invalidPathMessage);
  const list = [...container.L];
  if (last) {
    if (head < list.length) list[head] = value;
    else list.push(value);
    return { L: list };
  }
  if (head >= list.length) return failPlain(invalidPathMessage);
  list[head] = setIn(list[head]!, path, at + 1, value);
  return { L: list };
}

function removeIn(container: AttributeValue, path: DocumentPath, at: number): AttributeValue {
  const head = path[at]!;
  const last = at === path.length - 1;
  if (typeof head === "string") {
    if (!("M" in container)) return failPlain(invalidPathMessage);
    if (!Object.hasOwn(container.M, head)) return last ? container : failPlain(invalidPathMessage);
    if (last) return { M: withoutEntry(container.M, head) };
    return { M: withEntry(container.M, head, removeIn(container.M[head]!, path, at + 1)) };
  }
  if (!("L" in container)) return failPlain(invalidPathMessage);
  if (head >= container.L.length) return last ? container : failPlain(invalidPathMessage);
  const list = [...container.L];
  if (last) list.splice(head, 1);
  else list[head] = removeIn(list[head]!, path, at + 1);
  return { L: list };
}

function withEntry(map: Readonly<Record<string, AttributeValue>>, name: string, value: AttributeValue): Record<string, AttributeValue> {
  const out = { ...map };
  defineEntry(out, name, value);
  return out;
}

function withoutEntry(map: Readonly<Record<string, AttributeValue>>, name: string): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [key, value] of Object.entries(map)) if (key !== name) defineEntry(out, key, value);
  return out;
}
