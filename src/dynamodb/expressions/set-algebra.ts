import type { AttributeValue } from "../model/attribute-value.js";

/**
 * Union and difference of DynamoDB sets (ADD and DELETE in update expressions). Members are
 * keyed by a canonical string: strings as they are, numbers normalised (the model keeps them
 * so), binaries by base64. Undefined when the two values are not sets of one type.
 */
type SetValue = { SS: readonly string[] } | { NS: readonly string[] } | { BS: readonly Uint8Array[] };

function keyed(value: AttributeValue): { type: "SS" | "NS" | "BS"; members: Map<string, string | Uint8Array> } | undefined {
  if ("SS" in value) return { type: "SS", members: new Map(value.SS.map((m) => [m, m])) };
  if ("NS" in value) return { type: "NS", members: new Map(value.NS.map((m) => [m, m])) };
  if ("BS" in value) return { type: "BS", members: new Map(value.BS.map((m) => [Buffer.from(m).toString("base64"), m])) };
  return undefined;
}

function rebuild(type: "SS" | "NS" | "BS", members: Iterable<string | Uint8Array>): SetValue {
  const list = [...members];
  if (type === "BS") return { BS: list as Uint8Array[] };
  return type === "SS" ? { SS: list as string[] } : { NS: list as string[] };
}

export function setUnion(current: AttributeValue, added: AttributeValue): AttributeValue | undefined {
  const a = keyed(current);
  const b = keyed(added);
  if (a === undefined || b === undefined || a.type !== b.type) return undefined;
  for (const [key, member] of b.members) if (!a.members.has(key)) a.members.set(key, member);
  return rebuild(a.type, a.members.values());
}

/** The set without the given members; `null` when nothing is left (DynamoDB removes the attribute). */
export function setDifference(current: AttributeValue, removed: AttributeValue): AttributeValue | null | undefined {
  const a = keyed(current);
  const b = keyed(removed);
  if (a === undefined || b === undefined || a.type !== b.type) return undefined;
  for (const key of b.members.keys()) a.members.delete(key);
  return a.members.size === 0 ? null : rebuild(a.type, a.members.values());
}
